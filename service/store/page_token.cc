// Token layout before base64: version (1 byte), create time in Unix µs (8 bytes big-endian),
// the first 8 bytes of SHA-256(filter fingerprint), then the task id.
#include "service/store/page_token.h"

#include <cstdint>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "service/store/sha256.h"

namespace qwenimage::store {
namespace {

// Not signed: a forged token can only move a cursor within the caller's own tenant, because the
// tenant filter is applied by the server, not taken from the token.
constexpr char kVersion = 1;
constexpr size_t kHashSize = 8;
constexpr size_t kHeaderSize = 1 + 8 + kHashSize;
constexpr size_t kMaxIdSize = 256;

std::string FilterHash(absl::string_view filter_fingerprint) {
  return Sha256Raw(filter_fingerprint).substr(0, kHashSize);
}

absl::Status Malformed() { return absl::InvalidArgumentError("page_token is malformed"); }

}  // namespace

std::string EncodePageToken(const ListCursor& cursor, absl::string_view filter_fingerprint) {
  std::string raw;
  raw.reserve(kHeaderSize + cursor.id.size());
  raw.push_back(kVersion);
  const uint64_t micros = static_cast<uint64_t>(absl::ToUnixMicros(cursor.create_time));
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((micros >> shift) & 0xff));
  }
  raw += FilterHash(filter_fingerprint);
  raw += cursor.id;
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<ListCursor> DecodePageToken(absl::string_view token,
                                           absl::string_view filter_fingerprint) {
  std::string raw;
  if (token.empty() || !absl::WebSafeBase64Unescape(token, &raw)) return Malformed();
  if (raw.size() <= kHeaderSize || raw.size() > kHeaderSize + kMaxIdSize || raw[0] != kVersion) {
    return Malformed();
  }
  uint64_t micros = 0;
  for (size_t i = 1; i < 9; ++i) micros = (micros << 8) | static_cast<unsigned char>(raw[i]);
  if (raw.compare(9, kHashSize, FilterHash(filter_fingerprint)) != 0) {
    return absl::InvalidArgumentError(
        "page_token was issued for a different filter; restart listing without it");
  }
  ListCursor cursor;
  cursor.create_time = absl::FromUnixMicros(static_cast<int64_t>(micros));
  cursor.id = raw.substr(kHeaderSize);
  return cursor;
}

std::string ListFilterFingerprint(const ListQuery& query) {
  const std::set<int> states(query.states.begin(), query.states.end());
  auto bound = [](const std::optional<absl::Time>& t) {
    return t.has_value() ? absl::StrCat(absl::ToUnixMicros(*t)) : std::string("-");
  };
  // Length-prefix the free-form strings so that no two different filters join to one string.
  return absl::StrCat(query.tenant.size(), ":", query.tenant, "|", absl::StrJoin(states, ","), "|",
                      query.model.size(), ":", query.model, "|", bound(query.created_at_or_after),
                      "|", bound(query.created_before));
}

}  // namespace qwenimage::store
