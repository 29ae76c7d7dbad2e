// Transport: the credentials of the gRPC listener — TLS, or mutual TLS, with the certificate
// files watched and reloaded by gRPC's FileWatcherCertificateProvider — or plaintext, only when
// asked for (--insecure) or with --simulate. The files are checked here at start, because the
// file watcher reports problems only asynchronously, after the server is up.
#ifndef QWENIMAGE_SERVICE_SERVER_TRANSPORT_H_
#define QWENIMAGE_SERVICE_SERVER_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"

namespace qwenimage::server {

struct TransportOptions {
  std::string tls_cert;  // PEM certificate chain of the server, leaf first
  std::string tls_key;   // PEM private key of the leaf certificate
  // PEM CA certificates; set = mTLS: every client must present a certificate they issued.
  std::string tls_client_ca;
  // How often gRPC re-reads the files (whole seconds, at least 1 s); a replaced certificate is in
  // use for new connections within about this long, existing connections keep theirs.
  absl::Duration tls_reload_interval = absl::Seconds(10);
  // Plaintext on purpose (behind a mesh that terminates TLS, or on loopback).
  bool insecure = false;
};

struct ListenerCredentials {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // For the start-up log: "TLS", "mTLS" or "plaintext (--insecure/--simulate)".
  std::string description;
};

// Checks `options` and, with TLS, the files: each readable, PEM that parses, the key matching the
// first certificate, which must be within its validity period. Without TLS, plaintext needs
// `options.insecure` or `simulate`; otherwise FAILED_PRECONDITION saying how to choose.
// Error messages name files and flags, never their contents.
absl::StatusOr<ListenerCredentials> BuildListenerCredentials(const TransportOptions& options,
                                                             bool simulate);

// The file checks of BuildListenerCredentials alone (also usable before a rotation).
absl::Status CheckTlsFiles(const TransportOptions& options);

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_TRANSPORT_H_
