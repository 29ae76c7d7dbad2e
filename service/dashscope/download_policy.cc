#include "service/dashscope/download_policy.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qwenimage::dashscope {
namespace {

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  const std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) return false;
  for (absl::string_view o : octets) {
    int v = 0;
    if (o.empty() || o.size() > 3 || !absl::SimpleAtoi(o, &v) || v < 0 || v > 255) return false;
    for (char c : o) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  return octets[0] == "127";
}

}  // namespace

absl::Status CheckDownloadUrl(const DownloadPolicy& policy, absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return absl::InvalidArgumentError("image URL has no scheme");
  }
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  absl::string_view rest = url.substr(scheme_end + 3);
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // Userinfo could disguise the real host ("https://good.aliyuncs.com@evil/").
  if (absl::StrContains(authority, '@') || absl::StrContains(authority, '\\')) {
    return absl::InvalidArgumentError("image URL carries user info");
  }
  absl::string_view host = authority;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(0, host.find(']') == absl::string_view::npos ? host.size()
                                                                     : host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  const std::string lower_host = absl::AsciiStrToLower(host);
  if (lower_host.empty()) return absl::InvalidArgumentError("image URL has no host");

  if (policy.allow_loopback && (scheme == "http" || scheme == "https") &&
      IsLoopbackHost(lower_host)) {
    return absl::OkStatus();
  }
  if (scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("image URL scheme \"", scheme,
                                                   "\" is not allowed (https only)"));
  }
  for (const std::string& suffix : policy.host_suffixes) {
    const std::string lower_suffix = absl::AsciiStrToLower(suffix);
    if (lower_host.size() > lower_suffix.size() && absl::EndsWith(lower_host, lower_suffix)) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("image host \"", lower_host, "\" is not in the download allowlist"));
}

}  // namespace qwenimage::dashscope
