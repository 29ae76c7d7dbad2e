// Query-string SigV4 presigning of S3 GET URLs (a "presigned URL" that anyone holding it may
// GET until it expires, with no credentials of their own).
//
// Why a signer of our own: libcurl's CURLOPT_AWS_SIGV4 signs only requests that curl itself
// sends, in the Authorization header; it cannot produce X-Amz-Signature query parameters for a
// URL handed to somebody else. Every request the gateway sends is still signed by libcurl.
// The algorithm is AWS's "Authenticating Requests: Using Query Parameters (AWS Signature
// Version 4)"; tests/unit/store/s3_presign_test.cc checks it against AWS's published example.
#ifndef QWENIMAGE_SERVICE_STORE_S3_PRESIGN_H_
#define QWENIMAGE_SERVICE_STORE_S3_PRESIGN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/store/s3_credentials.h"

namespace qwenimage::store {

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, every other byte is
// %XX in uppercase hex; '/' stays only with keep_slash (paths).
std::string S3UriEncode(absl::string_view text, bool keep_slash);

// SigV4 allows at most 7 days.
inline constexpr absl::Duration kMaxPresignTtl = absl::Hours(24 * 7);

struct PresignParams {
  std::string scheme;  // "http" or "https"
  // The Host header a client will send for the URL: the host, with ":port" unless it is the
  // scheme's default, IPv6 literals in brackets.
  std::string host;
  // The object's path, already S3UriEncode'd with keep_slash ("/bucket/key" or "/key").
  std::string path;
  std::string region;
  absl::Time now;
  absl::Duration ttl;  // whole seconds, 1 s to kMaxPresignTtl (clamped)
};

// "<scheme>://<host><path>?X-Amz-Algorithm=...&X-Amz-Signature=<hex>" for a GET.
std::string PresignGetUrl(const S3Credentials& credentials, const PresignParams& params);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_S3_PRESIGN_H_
