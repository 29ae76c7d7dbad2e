// The tokens file (--tokens_file, a mounted Secret): bearer tokens, stored as SHA-256 hashes,
// and mTLS client identities (certificate SANs), each mapped to a tenant and quota overrides.
//
//   {"tokens": [{"sha256": "<64 lowercase hex>", "tenant": "team-a", "name": "ci-2026-11",
//                "quotas": {"max_queued": 100, "max_running": 2, "creates_per_minute": 60,
//                           "images_per_day": 5000}}],
//    "identities": [{"san": "spiffe://example.org/team-b", "tenant": "team-b", "quotas": {}}]}
//
// Parsing is strict: unknown fields, duplicate hashes or SANs and out-of-range quotas are
// errors. Error messages name the entry (`tokens[3].tenant`) but never contain a hash, a token,
// an unknown key or any other value from the file.
#ifndef QWENIMAGE_SERVICE_AUTH_TOKEN_FILE_H_
#define QWENIMAGE_SERVICE_AUTH_TOKEN_FILE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/tasks/tenant_quotas.h"

namespace qwenimage::auth {

using TokenDigest = std::array<uint8_t, 32>;  // SHA-256 of the token bytes

// The SHA-256 of `token`.
TokenDigest DigestOf(absl::string_view token);

// Per-entry overrides of the flag defaults; an absent field keeps the default.
struct QuotaOverrides {
  std::optional<int> max_queued;
  std::optional<int> max_running;
  std::optional<int> creates_per_minute;
  std::optional<int> images_per_day;

  tasks::TenantQuotas ApplyTo(tasks::TenantQuotas defaults) const;
};

struct TokenEntry {
  TokenDigest digest;
  std::string tenant;
  std::string name;  // a label for logs; may be empty
  QuotaOverrides quotas;
};

struct IdentityEntry {
  std::string san;  // a URI or DNS subject alternative name, matched exactly
  std::string tenant;
  std::string name;
  QuotaOverrides quotas;
};

struct TokenConfig {
  std::vector<TokenEntry> tokens;
  std::vector<IdentityEntry> identities;

  // The token whose digest equals `digest`, or null. Compares against every entry with
  // CRYPTO_memcmp and never stops early, so the time taken depends on the number of entries
  // only. `comparisons`, when given, receives the number of digest comparisons made.
  const TokenEntry* FindToken(const TokenDigest& digest, size_t* comparisons = nullptr) const;
  // The identity mapped from `san`, or null. SANs are not secrets: an ordinary comparison.
  const IdentityEntry* FindIdentity(absl::string_view san) const;
};

// Whether `tenant` is a valid tenant name: [A-Za-z0-9._:-]{1,64}.
bool IsValidTenant(absl::string_view tenant);

// Parses the file's contents. INVALID_ARGUMENT naming the entry and field on any error.
absl::StatusOr<TokenConfig> ParseTokenConfig(absl::string_view json);

// The bytes of the file at `path` (at most kMaxTokenFileBytes). The path is stat()ed and opened
// afresh on every call, so that the symlink swap of a Secret volume is followed. Errors name
// the path, never the contents.
inline constexpr size_t kMaxTokenFileBytes = 4 << 20;
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace qwenimage::auth

#endif  // QWENIMAGE_SERVICE_AUTH_TOKEN_FILE_H_
