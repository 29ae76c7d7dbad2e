// Page tokens (service/store/page_token.h): DecodePageToken on arbitrary tokens, encode/decode
// round trips, and ListFilterFingerprint telling different filters apart.
// Input: a fingerprint (length byte + bytes), a mode byte, then a token or two fuzzed queries.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "service/store/page_token.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace {

store::ListQuery QueryFrom(Input& in) {
  store::ListQuery q;
  q.tenant = in.Short(32);
  const uint8_t states = in.Byte();
  for (int s = 0; s < 7; ++s) {
    if (states & (1 << s)) q.states.push_back(static_cast<v1::TaskState>(s));
  }
  if (states & 0x80) q.states.push_back(v1::TASK_STATE_RUNNING);  // a duplicate
  q.model = in.Short(32);
  const uint8_t bounds = in.Byte();
  const int64_t after = static_cast<int64_t>(in.U64() >> 8);
  const int64_t before = static_cast<int64_t>(in.U64() >> 8);
  if (bounds & 1) q.created_at_or_after = absl::FromUnixMicros(after);
  if (bounds & 2) q.created_before = absl::FromUnixMicros(before);
  q.limit = in.Byte();  // ignored by the fingerprint
  return q;
}

bool SameFilter(const store::ListQuery& a, const store::ListQuery& b) {
  return a.tenant == b.tenant && a.model == b.model &&
         std::set<int>(a.states.begin(), a.states.end()) ==
             std::set<int>(b.states.begin(), b.states.end()) &&
         a.created_at_or_after == b.created_at_or_after && a.created_before == b.created_before;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const std::string fingerprint = in.Short();
  const uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    const absl::string_view token = in.Rest();
    absl::StatusOr<store::ListCursor> cursor = store::DecodePageToken(token, fingerprint);
    if (!cursor.ok()) {
      FUZZ_CHECK(cursor.status().code() == absl::StatusCode::kInvalidArgument);
      return 0;
    }
    FUZZ_CHECK(!cursor->id.empty() && cursor->id.size() <= 256);
    // The token's canonical form decodes to the same cursor, and only for its own filter.
    const std::string canonical = store::EncodePageToken(*cursor, fingerprint);
    absl::StatusOr<store::ListCursor> again = store::DecodePageToken(canonical, fingerprint);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->id == cursor->id && again->create_time == cursor->create_time);
    FUZZ_CHECK(!store::DecodePageToken(canonical, fingerprint + "x").ok());
    std::string raw;
    FUZZ_CHECK(absl::WebSafeBase64Unescape(canonical, &raw));
    return 0;
  }
  const store::ListQuery a = QueryFrom(in);
  const store::ListQuery b = QueryFrom(in);
  const std::string fa = store::ListFilterFingerprint(a);
  const std::string fb = store::ListFilterFingerprint(b);
  FUZZ_CHECK((fa == fb) == SameFilter(a, b));
  // A cursor of any position and id round-trips through a token.
  const std::string id(in.Rest().substr(0, 256));
  if (!id.empty()) {
    const store::ListCursor cursor{a.created_at_or_after.value_or(absl::UnixEpoch()), id};
    const std::string token = store::EncodePageToken(cursor, fa);
    absl::StatusOr<store::ListCursor> back = store::DecodePageToken(token, fa);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->id == id && back->create_time == cursor.create_time);
    if (fa != fb) FUZZ_CHECK(!store::DecodePageToken(token, fb).ok());
  }
  return 0;
}

}  // namespace qwenimage::fuzz
