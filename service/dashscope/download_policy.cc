#include "service/dashscope/download_policy.h"

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/http/url.h"

namespace qwenimage::dashscope {
namespace {

absl::Status Refused(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("image URL refused: ", why));
}

// Letters, digits and hyphens in non-empty labels: what DashScope's storage names look like.
// Anything else (an empty label, a trailing dot, "_", non-ASCII) is refused, not second-guessed.
bool IsPlainHostname(absl::string_view host) {
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

// `host` is lowercase. Whole labels only: "aliyuncs.com" admits "x.aliyuncs.com", not
// "evilaliyuncs.com".
bool HostMatches(absl::string_view host, absl::string_view entry) {
  const std::string lower = absl::AsciiStrToLower(entry);
  const absl::string_view name = absl::StripPrefix(lower, ".");
  if (name.empty()) return false;
  if (host == name) return true;
  return host.size() > name.size() && absl::EndsWith(host, name) &&
         host[host.size() - name.size() - 1] == '.';
}

}  // namespace

absl::Status CheckDownloadUrl(const DownloadPolicy& policy, absl::string_view url) {
  // Checked on the raw bytes first: a NUL would cut the C string curl sees, and control bytes,
  // spaces and backslashes are where URL parsers disagree about the host.
  for (size_t i = 0; i < url.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(url[i]);
    if (c < 0x20 || c == 0x7f) {
      return Refused(absl::StrFormat("control byte 0x%02x at offset %d", c, i));
    }
    if (c == ' ') return Refused(absl::StrCat("space at offset ", i));
    if (c == '\\') return Refused(absl::StrCat("backslash at offset ", i));
  }
  absl::StatusOr<http::UrlParts> parts = http::ParseUrl(url);
  if (!parts.ok()) return Refused(parts.status().message());
  const std::string& host = parts->host;
  // What an error may show: no user info, query or fragment (signed URLs carry credentials).
  std::string where = absl::StrCat(parts->scheme, "://", host, parts->path);
  if (where.size() > 200) where = absl::StrCat(where.substr(0, 200), "...");

  // "https://x.aliyuncs.com@evil.net/" names evil.net; refusing all user info also keeps
  // credentials out of the request.
  if (parts->has_user_info) return Refused(absl::StrCat("it carries user info (", where, ")"));
  if (parts->has_zone_id) return Refused(absl::StrCat("it carries an IPv6 zone id (", where, ")"));
  const std::optional<http::IpRange> ip = http::ClassifyIpLiteral(host);

  if (policy.allow_loopback && (parts->scheme == "http" || parts->scheme == "https") &&
      (host == "localhost" || ip == http::IpRange::kLoopback)) {
    return absl::OkStatus();
  }
  if (parts->scheme != "https") {
    return Refused(absl::StrCat("scheme \"", parts->scheme, "\" is not allowed, https only (",
                                where, ")"));
  }
  if (parts->port != 443) {
    return Refused(
        absl::StrCat("port ", parts->port, " is not allowed, 443 only (", where, ")"));
  }
  if (!ip.has_value() && IsPlainHostname(host)) {
    for (const std::string& entry : policy.host_suffixes) {
      if (HostMatches(host, entry)) return absl::OkStatus();
    }
  }
  return Refused(
      absl::StrCat("host \"", host, "\" is not in the download allowlist (", where, ")"));
}

http::AddressPolicy DownloadAddressPolicy(const DownloadPolicy& policy) {
  return policy.allow_loopback ? http::AddressPolicy::kPublicOrLoopback
                               : http::AddressPolicy::kPublicOnly;
}

}  // namespace qwenimage::dashscope
