#include "service/store/s3_presign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/store/sha256.h"

namespace qwenimage::store {
namespace {

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string S3UriEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string PresignGetUrl(const S3Credentials& credentials, const PresignParams& params) {
  const int64_t expires = std::clamp<int64_t>(absl::ToInt64Seconds(params.ttl), 1,
                                              absl::ToInt64Seconds(kMaxPresignTtl));
  const std::string date = absl::FormatTime("%Y%m%d", params.now, absl::UTCTimeZone());
  const std::string timestamp =
      absl::FormatTime("%Y%m%dT%H%M%SZ", params.now, absl::UTCTimeZone());
  const std::string scope = absl::StrCat(date, "/", params.region, "/s3/aws4_request");
  // Already in canonical order (sorted by name) and encoding, so the URL's query is the
  // canonical query string as it stands.
  const std::string query = absl::StrCat(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256",
      "&X-Amz-Credential=", S3UriEncode(absl::StrCat(credentials.access_key_id, "/", scope), false),
      "&X-Amz-Date=", timestamp, "&X-Amz-Expires=", expires, "&X-Amz-SignedHeaders=host");
  const std::string canonical_request =
      absl::StrCat("GET\n", params.path, "\n", query, "\nhost:", params.host, "\n\nhost\n",
                   "UNSIGNED-PAYLOAD");
  const std::string string_to_sign = absl::StrCat("AWS4-HMAC-SHA256\n", timestamp, "\n", scope,
                                                  "\n", Sha256Hex(canonical_request));
  std::string key = HmacSha256(absl::StrCat("AWS4", credentials.secret_access_key), date);
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, "s3");
  key = HmacSha256(key, "aws4_request");
  const std::string signature = absl::BytesToHexString(HmacSha256(key, string_to_sign));
  return absl::StrCat(params.scheme, "://", params.host, params.path, "?", query,
                      "&X-Amz-Signature=", signature);
}

}  // namespace qwenimage::store
