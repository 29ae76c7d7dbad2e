#include "service/auth/token_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "openssl/crypto.h"
#include "openssl/sha.h"
#include "service/common/mounted_file.h"

namespace qwenimage::auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxTenantChars = 64;
constexpr size_t kMaxNameChars = 128;
constexpr size_t kMaxSanChars = 1024;

bool IsTenantChar(char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
}

// Printable ASCII without spaces: what a label or a SAN may hold so that it logs safely.
bool IsPrintableWord(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

absl::Status Invalid(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("tokens file: ", where, ": ", problem));
}

absl::Status RefuseUnknownKeys(const Json& object, std::initializer_list<const char*> known,
                               absl::string_view where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (std::none_of(known.begin(), known.end(), [&key](const char* k) { return key == k; })) {
      // The key itself is not repeated: a misplaced token or hash used as a key must not reach
      // a log line.
      return Invalid(where, absl::StrCat("an unknown field (the fields are ",
                                         absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseQuotas(const Json& object, const std::string& where, QuotaOverrides* out) {
  if (!object.is_object()) return Invalid(where, "must be an object");
  if (absl::Status s = RefuseUnknownKeys(
          object, {"max_queued", "max_running", "creates_per_minute", "images_per_day"}, where);
      !s.ok()) {
    return s;
  }
  const std::pair<const char*, std::optional<int>*> fields[] = {
      {"max_queued", &out->max_queued},
      {"max_running", &out->max_running},
      {"creates_per_minute", &out->creates_per_minute},
      {"images_per_day", &out->images_per_day}};
  for (const auto& [key, field] : fields) {
    auto it = object.find(key);
    if (it == object.end()) continue;
    // is_number_integer is true for both signed and unsigned integers, never for 1.0.
    const bool in_range =
        it->is_number_integer() &&
        (it->is_number_unsigned()
             ? it->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max())
             : it->get<int64_t>() >= 0 && it->get<int64_t>() <= std::numeric_limits<int>::max());
    if (!in_range) {
      return Invalid(absl::StrCat(where, ".", key),
                     "must be an integer from 0 (unlimited) to 2147483647");
    }
    *field = static_cast<int>(it->get<int64_t>());
  }
  return absl::OkStatus();
}

// The fields both entry kinds share: tenant (required), name and quotas (optional).
absl::Status ParseCommon(const Json& entry, const std::string& where, std::string* tenant,
                         std::string* name, QuotaOverrides* quotas) {
  auto t = entry.find("tenant");
  if (t == entry.end()) return Invalid(absl::StrCat(where, ".tenant"), "is required");
  if (!t->is_string() || !IsValidTenant(t->get_ref<const std::string&>())) {
    return Invalid(absl::StrCat(where, ".tenant"),
                   "must be 1 to 64 characters of letters, digits, '.', '_', '-', ':'");
  }
  *tenant = t->get<std::string>();
  if (auto n = entry.find("name"); n != entry.end()) {
    if (!n->is_string() || n->get_ref<const std::string&>().size() > kMaxNameChars ||
        !IsPrintableWord(n->get_ref<const std::string&>())) {
      return Invalid(absl::StrCat(where, ".name"),
                     "must be a string of at most 128 printable ASCII characters without spaces");
    }
    *name = n->get<std::string>();
  }
  if (auto q = entry.find("quotas"); q != entry.end()) {
    return ParseQuotas(*q, absl::StrCat(where, ".quotas"), quotas);
  }
  return absl::OkStatus();
}

bool ParseHexDigest(const std::string& hex, TokenDigest* out) {
  if (hex.size() != 2 * out->size()) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case is refused: one spelling per hash, so duplicates are seen
  };
  for (size_t i = 0; i < out->size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

absl::Status ParseTokens(const Json& array, TokenConfig* config) {
  if (!array.is_array()) return Invalid("tokens", "must be an array");
  std::map<TokenDigest, size_t> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    const Json& entry = array[i];
    const std::string where = absl::StrCat("tokens[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    if (absl::Status s = RefuseUnknownKeys(entry, {"sha256", "tenant", "name", "quotas"}, where);
        !s.ok()) {
      return s;
    }
    TokenEntry token;
    auto h = entry.find("sha256");
    if (h == entry.end()) return Invalid(absl::StrCat(where, ".sha256"), "is required");
    if (!h->is_string() || !ParseHexDigest(h->get_ref<const std::string&>(), &token.digest)) {
      return Invalid(absl::StrCat(where, ".sha256"),
                     "must be 64 lowercase hex characters (printf %s \"$TOKEN\" | sha256sum)");
    }
    if (auto [it, inserted] = seen.emplace(token.digest, i); !inserted) {
      return Invalid(absl::StrCat(where, ".sha256"),
                     absl::StrCat("is the same hash as tokens[", it->second, "]"));
    }
    if (absl::Status s = ParseCommon(entry, where, &token.tenant, &token.name, &token.quotas);
        !s.ok()) {
      return s;
    }
    config->tokens.push_back(std::move(token));
  }
  return absl::OkStatus();
}

absl::Status ParseIdentities(const Json& array, TokenConfig* config) {
  if (!array.is_array()) return Invalid("identities", "must be an array");
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    const Json& entry = array[i];
    const std::string where = absl::StrCat("identities[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    if (absl::Status s = RefuseUnknownKeys(entry, {"san", "tenant", "name", "quotas"}, where);
        !s.ok()) {
      return s;
    }
    IdentityEntry identity;
    auto san = entry.find("san");
    if (san == entry.end()) return Invalid(absl::StrCat(where, ".san"), "is required");
    if (!san->is_string() || san->get_ref<const std::string&>().empty() ||
        san->get_ref<const std::string&>().size() > kMaxSanChars ||
        !IsPrintableWord(san->get_ref<const std::string&>())) {
      return Invalid(absl::StrCat(where, ".san"),
                     "must be a URI or DNS name of 1 to 1024 printable ASCII characters");
    }
    identity.san = san->get<std::string>();
    if (auto [it, inserted] = seen.emplace(identity.san, i); !inserted) {
      return Invalid(absl::StrCat(where, ".san"),
                     absl::StrCat("is the same SAN as identities[", it->second, "]"));
    }
    if (absl::Status s =
            ParseCommon(entry, where, &identity.tenant, &identity.name, &identity.quotas);
        !s.ok()) {
      return s;
    }
    config->identities.push_back(std::move(identity));
  }
  return absl::OkStatus();
}

}  // namespace

TokenDigest DigestOf(absl::string_view token) {
  TokenDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

tasks::TenantQuotas QuotaOverrides::ApplyTo(tasks::TenantQuotas defaults) const {
  if (max_queued.has_value()) defaults.max_queued = *max_queued;
  if (max_running.has_value()) defaults.max_running = *max_running;
  if (creates_per_minute.has_value()) defaults.creates_per_minute = *creates_per_minute;
  if (images_per_day.has_value()) defaults.images_per_day = *images_per_day;
  return defaults;
}

const TokenEntry* TokenConfig::FindToken(const TokenDigest& digest, size_t* comparisons) const {
  const TokenEntry* found = nullptr;
  size_t compared = 0;
  for (const TokenEntry& entry : tokens) {
    // No early exit and no branch on the bytes: the loop's time depends on tokens.size() only.
    const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    ++compared;
    if (equal) found = &entry;
  }
  if (comparisons != nullptr) *comparisons = compared;
  return found;
}

const IdentityEntry* TokenConfig::FindIdentity(absl::string_view san) const {
  for (const IdentityEntry& entry : identities) {
    if (entry.san == san) return &entry;
  }
  return nullptr;
}

bool IsValidTenant(absl::string_view tenant) {
  return !tenant.empty() && tenant.size() <= kMaxTenantChars &&
         std::all_of(tenant.begin(), tenant.end(), IsTenantChar);
}

absl::StatusOr<TokenConfig> ParseTokenConfig(absl::string_view json) {
  // Without exceptions: a parse error reports only its byte offset, never the text around it
  // (nlohmann's own message quotes the last bytes read, which could be a hash).
  Json root = Json::parse(json.begin(), json.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError("tokens file: not valid JSON");
  }
  if (!root.is_object()) return Invalid("top level", "must be an object");
  if (absl::Status s = RefuseUnknownKeys(root, {"tokens", "identities"}, "top level"); !s.ok()) {
    return s;
  }
  TokenConfig config;
  if (auto it = root.find("tokens"); it != root.end()) {
    if (absl::Status s = ParseTokens(*it, &config); !s.ok()) return s;
  }
  if (auto it = root.find("identities"); it != root.end()) {
    if (absl::Status s = ParseIdentities(*it, &config); !s.ok()) return s;
  }
  return config;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  return ReadMountedFile(path, "tokens file", kMaxTokenFileBytes);
}

}  // namespace qwenimage::auth
