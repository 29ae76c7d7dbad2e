#include "service/http/url.h"

#include <curl/curl.h>

#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace qwenimage::http {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// One part of a parsed URL; nullopt when the URL has none (curl says e.g. CURLUE_NO_USER).
std::optional<std::string> Part(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) {
    return std::nullopt;
  }
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

absl::StatusOr<UrlParts> ParseUrl(absl::string_view url) {
  if (url.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("URL contains a NUL byte");
  }
  std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_url failed");
  const std::string text(url);
  // No flags: no scheme guessing, no unsupported schemes, no spaces; as CURLOPT_URL parses.
  if (const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0);
      rc != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid absolute URL (", curl_url_strerror(rc), ")"));
  }
  CURLU* u = handle.get();
  UrlParts parts;
  parts.scheme = absl::AsciiStrToLower(Part(u, CURLUPART_SCHEME).value_or(""));
  parts.host = absl::AsciiStrToLower(Part(u, CURLUPART_HOST).value_or(""));
  if (parts.host.empty()) return absl::InvalidArgumentError("URL has no host");
  if (!absl::SimpleAtoi(Part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or(""), &parts.port)) {
    return absl::InvalidArgumentError("URL has no usable port");
  }
  parts.path = Part(u, CURLUPART_PATH).value_or("/");
  if (parts.path.empty()) parts.path = "/";
  parts.has_user_info = Part(u, CURLUPART_USER).has_value() ||
                        Part(u, CURLUPART_PASSWORD).has_value() ||
                        Part(u, CURLUPART_OPTIONS).has_value();
  parts.has_zone_id = Part(u, CURLUPART_ZONEID).has_value();
  return parts;
}

}  // namespace qwenimage::http
