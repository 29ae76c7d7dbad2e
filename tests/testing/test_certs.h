// TestPki: a throwaway PKI made at test time with the `openssl` command line in a directory —
// CAs, server certificates for 127.0.0.1 and localhost, client certificates with a URI SAN
// (e.g. spiffe://test/team-b) — for the TLS and mTLS tests. Keys are unencrypted P-256 PEM.
#ifndef QWENIMAGE_TESTS_TESTING_TEST_CERTS_H_
#define QWENIMAGE_TESTS_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qwenimage::testing {

// Paths of a PEM certificate and its PEM private key.
struct CertFiles {
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  // Files go to `dir`, created if missing; openssl's output goes to dir/openssl.log.
  explicit TestPki(std::string dir);

  // A self-signed CA certificate: dir/NAME.pem, dir/NAME.key.
  absl::StatusOr<CertFiles> MakeCa(const std::string& name);
  // Signed by `ca`: serverAuth, SAN IP:127.0.0.1 and DNS:localhost.
  absl::StatusOr<CertFiles> MakeServerCert(const CertFiles& ca, const std::string& name);
  // Signed by `ca`: clientAuth, SAN URI:`uri_san`.
  absl::StatusOr<CertFiles> MakeClientCert(const CertFiles& ca, const std::string& name,
                                           const std::string& uri_san);

  const std::string& dir() const { return dir_; }

 private:
  absl::StatusOr<CertFiles> MakeLeaf(const CertFiles& ca, const std::string& name,
                                     const std::string& extensions);
  absl::Status Run(const std::string& command);
  std::string dir_;
};

// Whether the `openssl` command runs. A test that needs it fails under CI=true when it does not
// (a real component never skips in CI) and otherwise skips, printing SKIP.
bool OpensslAvailable();
bool InCi();

// The whole file, or "" if it cannot be read.
std::string ReadWholeFile(const std::string& path);
// Replaces `path` atomically (write a sibling, then rename), as a Secret volume update does.
absl::Status ReplaceFile(const std::string& path, const std::string& contents);

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_TEST_CERTS_H_
