// ParseUrl: splits a URL with libcurl's own parser (curl_url), so that a check on the parts sees
// exactly the scheme, host and port CurlHttpClient will use for the same string.
#ifndef QWENIMAGE_SERVICE_HTTP_URL_H_
#define QWENIMAGE_SERVICE_HTTP_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::http {

struct UrlParts {
  std::string scheme;  // lowercased by curl
  // As curl will resolve it: percent-decoded, numeric IPv4 forms ("0x7f.1") normalised to
  // dotted quads, IPv6 literals in brackets ("[::1]"); lowercased here.
  std::string host;
  int port = 0;       // explicit, or the scheme's default
  std::string path;   // "/" at least; never the query or fragment
  bool has_user_info = false;  // user, password or login options ("user:pw;opt@host")
  bool has_zone_id = false;    // "[fe80::1%25eth0]"
};

// INVALID_ARGUMENT if curl would not accept `url` as an absolute URL with a host (a scheme is
// required, never guessed). The message never echoes the URL.
absl::StatusOr<UrlParts> ParseUrl(absl::string_view url);

}  // namespace qwenimage::http

#endif  // QWENIMAGE_SERVICE_HTTP_URL_H_
