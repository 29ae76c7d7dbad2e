// S3Server: a real S3-protocol server for tests — npm's s3rver (node) on 127.0.0.1 with a free
// port and a temporary directory, stopped and removed on destruction.
//
// s3rver 3.7.1 does not verify SigV4 signatures (nor payload hashes) at all: any well-formed
// signature with a known access key id passes. By default the server is therefore started
// through tests/testing/s3rver_sigv4.js, which puts S3's own checks in front of it (signature,
// presigned-URL expiry, x-amz-content-sha256 against the body); `verify_signatures = false`
// runs s3rver as it is (the wrapper with --no-verify). Either way the server exits by itself
// when the test process dies without stopping it. Credentials: s3rver's built-in
// account, access key S3RVER with secret S3RVER. Virtual-hosted style works on loopback with the
// endpoint vhost_endpoint(): "<bucket>.s3.localhost" resolves to 127.0.0.1 inside libcurl and
// s3rver runs with --service-endpoint localhost.
#ifndef QWENIMAGE_TESTS_TESTING_S3_SERVER_H_
#define QWENIMAGE_TESTS_TESTING_S3_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {

class S3Server {
 public:
  static constexpr char kAccessKeyId[] = "S3RVER";
  static constexpr char kSecretAccessKey[] = "S3RVER";
  static constexpr char kRegion[] = "us-east-1";

  // NOT_FOUND if node or node_modules/s3rver is missing (run `npm install` at the repo root);
  // other errors carry the tail of the server's log.
  static absl::StatusOr<std::unique_ptr<S3Server>> Start(bool verify_signatures = true);
  ~S3Server();

  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  int port() const { return port_; }
  bool verifies_signatures() const { return verify_signatures_; }
  // Path-style endpoint: "http://127.0.0.1:<port>".
  std::string endpoint() const;
  // For virtual-hosted style: "http://s3.localhost:<port>" (buckets at <bucket>.s3.localhost).
  std::string vhost_endpoint() const;
  // Creates a new, empty bucket named after the running test (unique per call).
  absl::StatusOr<std::string> CreateBucket();
  // A plain unsigned GET of `url` (as a client without credentials would): status and body.
  static absl::StatusOr<std::pair<long, std::string>> AnonymousGet(const std::string& url);

 private:
  S3Server() = default;

  bool verify_signatures_ = true;
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  std::atomic<int> buckets_{0};
};

// For a fixture's SetUp: the server of this kind shared by the test process (started on first
// use, stopped at exit). Without node/s3rver it records a skip (printing SKIP) and returns
// nullptr — or, when CI=true, a fatal failure; any other start failure is fatal too.
S3Server* SharedS3ServerOrSkip(bool verify_signatures = true);

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_S3_SERVER_H_
