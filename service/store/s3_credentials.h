// S3Credentials: an access key pair for an S3-compatible store, read from a file (a mounted
// Secret). The secret never appears in a log line, an error message or a debug string.
//
// File format: one `name=value` per line; `access_key_id` and `secret_access_key` are required.
// Blank lines and lines starting with '#' are ignored, whitespace around names and values is
// stripped, any other name is an error (a typo must not go unnoticed):
//   # OSS RAM user gateway-images
//   access_key_id=LTAI5t...
//   secret_access_key=...
#ifndef QWENIMAGE_SERVICE_STORE_S3_CREDENTIALS_H_
#define QWENIMAGE_SERVICE_STORE_S3_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Parses the file's contents. INVALID_ARGUMENT names the line number and the problem, never the
// line's text (it may be the secret).
absl::StatusOr<S3Credentials> ParseS3Credentials(absl::string_view text);
// Reads and parses `path` (FAILED_PRECONDITION if it cannot be read).
absl::StatusOr<S3Credentials> ReadS3CredentialsFile(const std::string& path);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_S3_CREDENTIALS_H_
