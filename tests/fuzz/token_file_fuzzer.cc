// The tokens file parser (service/auth/token_file.h) and the Authorization value parsing of the
// Authenticator. Input: a mode byte, then either a whole tokens file (even) or an authorization
// metadata value checked against a fixed config (odd).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "service/auth/authenticator.h"
#include "service/auth/token_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace {

constexpr char kToken[] = "fuzz-token-1f2e";

// The longest run of lowercase hex digits: a message with a long one could carry a hash.
size_t LongestHexRun(absl::string_view s) {
  size_t best = 0, run = 0;
  for (char c : s) {
    run = (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f')) ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

void CheckFile(absl::string_view json) {
  absl::StatusOr<auth::TokenConfig> config = auth::ParseTokenConfig(json);
  if (!config.ok()) {
    const std::string message(config.status().message());
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(message, "tokens file: "));
    // Fixed words, entry indexes and field-like key names only: bounded, printable, no hash.
    FUZZ_CHECK(message.size() < 200);
    for (char c : message) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    FUZZ_CHECK(LongestHexRun(message) < 12);
    return;
  }
  std::set<auth::TokenDigest> digests;
  for (const auth::TokenEntry& t : config->tokens) {
    FUZZ_CHECK(auth::IsValidTenant(t.tenant));
    FUZZ_CHECK(digests.insert(t.digest).second);
    FUZZ_CHECK(config->FindToken(t.digest) == &t);
    for (const std::optional<int>& q : {t.quotas.max_queued, t.quotas.max_running,
                                        t.quotas.creates_per_minute, t.quotas.images_per_day}) {
      FUZZ_CHECK(!q.has_value() || *q >= 0);
    }
  }
  std::set<std::string> sans;
  for (const auth::IdentityEntry& i : config->identities) {
    FUZZ_CHECK(auth::IsValidTenant(i.tenant));
    FUZZ_CHECK(!i.san.empty() && sans.insert(i.san).second);
    FUZZ_CHECK(config->FindIdentity(i.san) == &i);
  }
}

void CheckAuthorization(absl::string_view value) {
  static const auth::Authenticator* authenticator = [] {
    auth::TokenConfig config;
    config.tokens.push_back({auth::DigestOf(kToken), "fuzz", "seed", {}});
    config.tokens.push_back({auth::DigestOf("other-token"), "other", "", {}});
    return auth::Authenticator::ForConfig(std::move(config)).release();
  }();
  auth::CallCredentials credentials;
  credentials.authorization.push_back(value);
  absl::StatusOr<auth::Principal> principal = authenticator->Authenticate(credentials);
  // The only value that authenticates: "Bearer", case-insensitive, spaces, the token.
  const absl::string_view scheme = value.substr(0, 6);
  absl::string_view rest = value.substr(std::min<size_t>(6, value.size()));
  const bool spaced = !rest.empty() && rest.front() == ' ';
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const bool expected = absl::EqualsIgnoreCase(scheme, "bearer") && spaced && rest == kToken;
  FUZZ_CHECK(principal.ok() == expected);
  if (principal.ok()) {
    FUZZ_CHECK(principal->tenant == "fuzz");
    return;
  }
  FUZZ_CHECK(principal.status().code() == absl::StatusCode::kUnauthenticated);
  const absl::string_view message = principal.status().message();
  FUZZ_CHECK(absl::StartsWith(message, "malformed authorization metadata") ||
             message == "invalid or revoked bearer token");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    CheckFile(in.Rest());
  } else {
    CheckAuthorization(in.Rest());
  }
  return 0;
}

}  // namespace qwenimage::fuzz
