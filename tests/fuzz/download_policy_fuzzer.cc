// CheckDownloadUrl (service/dashscope/download_policy.h) on arbitrary URLs under the default
// allowlist, a loopback-allowing policy and a policy with odd entries. Input: a policy byte,
// then the URL.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "service/dashscope/download_policy.h"
#include "service/http/address_policy.h"
#include "service/http/url.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

bool MatchesEntry(absl::string_view host, absl::string_view entry) {
  std::string name = absl::AsciiStrToLower(entry);
  if (!name.empty() && name[0] == '.') name.erase(0, 1);
  if (name.empty()) return false;
  return host == name || absl::EndsWith(host, "." + name);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t mode = in.Byte();
  const absl::string_view url = in.Rest();
  ds::DownloadPolicy policy;
  policy.allow_loopback = mode & 1;
  if (mode & 2) policy.host_suffixes = {"", ".", "Example.COM", "aliyuncs.com", "x-y.z"};

  const absl::Status status = ds::CheckDownloadUrl(policy, url);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(status.message(), "image URL refused: "));
    // Signed URLs carry credentials in the query: a refusal never depends on (so never quotes)
    // a query of plain characters; replacing every letter and digit of it changes nothing.
    const size_t q = url.find('?');
    if (q != absl::string_view::npos) {
      std::string masked(url);
      bool plain = true;
      for (size_t i = q + 1; i < masked.size() && masked[i] != '#'; ++i) {
        const char c = masked[i];
        if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
          masked[i] = c == 'x' ? 'y' : 'x';
        } else if (c != '=' && c != '&' && c != '-' && c != '_' && c != '.') {
          plain = false;
        }
      }
      if (plain) FUZZ_CHECK(ds::CheckDownloadUrl(policy, masked) == status);
    }
    return 0;
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f && c != ' ' && c != '\\');
  }
  absl::StatusOr<http::UrlParts> parts = http::ParseUrl(url);
  FUZZ_CHECK(parts.ok());
  FUZZ_CHECK(!parts->has_user_info && !parts->has_zone_id);
  FUZZ_CHECK(!parts->host.empty());
  const std::optional<http::IpRange> ip = http::ClassifyIpLiteral(parts->host);
  if (policy.allow_loopback && (parts->host == "localhost" || ip == http::IpRange::kLoopback)) {
    FUZZ_CHECK(parts->scheme == "http" || parts->scheme == "https");
    return 0;
  }
  FUZZ_CHECK(parts->scheme == "https" && parts->port == 443);
  FUZZ_CHECK(!ip.has_value());
  bool allowed = false;
  for (const std::string& entry : policy.host_suffixes) allowed |= MatchesEntry(parts->host, entry);
  FUZZ_CHECK(allowed);
  return 0;
}

}  // namespace qwenimage::fuzz
