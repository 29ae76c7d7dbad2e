#include "service/server/transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace qwenimage::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The reason of the oldest queued OpenSSL error (never file contents), and the queue cleared.
std::string OpenSslReason() {
  unsigned long code = ERR_peek_error();
  std::string reason = code == 0                                  ? "no PEM data"
                       : ERR_reason_error_string(code) != nullptr ? ERR_reason_error_string(code)
                                                                  : "unknown OpenSSL error";
  ERR_clear_error();
  return reason;
}

absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, " ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::FailedPreconditionError(absl::StrCat("--", flag, " ", path, ": read failed"));
  }
  return data;
}

BioPtr MemoryBio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Every certificate in a PEM file; an error unless there is at least one and all parse.
absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(absl::string_view flag,
                                                      const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(flag, path);
  if (!pem.ok()) return pem.status();
  BioPtr bio = MemoryBio(*pem);
  std::vector<X509Ptr> certs;
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // Reading stops with PEM_R_NO_START_LINE at the end of the data; anything else is damage.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (certs.empty() || (last != 0 && !clean_end)) {
    std::string reason = certs.empty() && clean_end ? "no PEM certificate" : OpenSslReason();
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, " ", path, ": not a PEM certificate file (", reason, ")"));
  }
  ERR_clear_error();
  return certs;
}

absl::Status CheckValidity(absl::string_view flag, const std::string& path, X509* cert) {
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, " ", path, ": the certificate is not valid yet"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, " ", path, ": the certificate has expired"));
  }
  return absl::OkStatus();
}

bool TlsRequested(const TransportOptions& o) {
  return !o.tls_cert.empty() || !o.tls_key.empty() || !o.tls_client_ca.empty();
}

}  // namespace

absl::Status CheckTlsFiles(const TransportOptions& o) {
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert and --tls_key (--tls_client_ca adds mTLS)");
  }
  absl::StatusOr<std::vector<X509Ptr>> chain = ReadCertificates("tls_cert", o.tls_cert);
  if (!chain.ok()) return chain.status();
  if (absl::Status s = CheckValidity("tls_cert", o.tls_cert, chain->front().get()); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> key_pem = ReadFile("tls_key", o.tls_key);
  if (!key_pem.ok()) return key_pem.status();
  BioPtr bio = MemoryBio(*key_pem);
  ERR_clear_error();
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tls_key ", o.tls_key, ": not an unencrypted PEM private key (", OpenSslReason(), ")"));
  }
  if (X509_check_private_key(chain->front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat("--tls_key ", o.tls_key,
                                                      " does not match the certificate of "
                                                      "--tls_cert ",
                                                      o.tls_cert));
  }
  if (!o.tls_client_ca.empty()) {
    absl::StatusOr<std::vector<X509Ptr>> cas = ReadCertificates("tls_client_ca", o.tls_client_ca);
    if (!cas.ok()) return cas.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<ListenerCredentials> BuildListenerCredentials(const TransportOptions& o,
                                                             bool simulate) {
  if (!TlsRequested(o)) {
    if (!o.insecure && !simulate) {
      return absl::FailedPreconditionError(
          "no TLS: set --tls_cert and --tls_key (and --tls_client_ca for mTLS), or pass "
          "--insecure to serve plaintext on purpose");
    }
    return ListenerCredentials{grpc::InsecureServerCredentials(),
                               "plaintext (--insecure/--simulate)"};
  }
  if (o.insecure) {
    return absl::InvalidArgumentError("--insecure contradicts --tls_cert/--tls_key: choose one");
  }
  const int64_t reload_seconds = absl::ToInt64Seconds(o.tls_reload_interval);
  if (reload_seconds < 1 || o.tls_reload_interval != absl::Seconds(reload_seconds)) {
    return absl::InvalidArgumentError("--tls_reload_interval must be whole seconds, at least 1s");
  }
  if (absl::Status s = CheckTlsFiles(o); !s.ok()) return s;

  const bool mutual = !o.tls_client_ca.empty();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      o.tls_key, o.tls_cert, o.tls_client_ca, static_cast<unsigned int>(reload_seconds));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  // TLS 1.2 is the floor: gRPC 1.51 has no public setter for the TLS versions of these options,
  // and its TLS credentials default to min TLS 1.2, max TLS 1.3 (tests/integration/tls_test.cc
  // checks that a TLS 1.1 handshake is refused).
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) return absl::InternalError("gRPC refused the TLS options");
  return ListenerCredentials{std::move(credentials), mutual ? "mTLS" : "TLS"};
}

}  // namespace qwenimage::server
