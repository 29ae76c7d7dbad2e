// ParseRetryAfter (errors.h): arbitrary header values, and IMF-fixdates formatted from fuzzed
// times, which must parse back to their distance from `now`.
// Input: `now` (8 bytes), a date offset (8 bytes), then the header value.
#include <cstddef>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "service/dashscope/errors.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

constexpr int64_t kTenThousandYears = int64_t{10000} * 366 * 86400;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  // Any second of years 1970..~11970; HTTP dates have four-digit years.
  const absl::Time now = absl::FromUnixSeconds(static_cast<int64_t>(in.U64() % kTenThousandYears));
  const int64_t offset = static_cast<int64_t>(in.U64() % (2 * 86400 * 400)) - 86400 * 400;
  const absl::string_view value = in.Rest();

  std::optional<absl::Duration> delay = ds::ParseRetryAfter(value, now);
  if (delay.has_value()) {
    FUZZ_CHECK(*delay >= absl::ZeroDuration());
    // absl::ParseTime takes the literal "infinite-future" whatever the format; a finite delay
    // is what callers can cap (regressions/retry_after/ holds that input).
    FUZZ_CHECK(*delay != absl::InfiniteDuration());
  }
  int64_t seconds = 0;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &seconds)) {
    FUZZ_CHECK(seconds < 0 ? !delay.has_value() : delay == absl::Seconds(seconds));
  }

  const absl::Time when = now + absl::Seconds(offset);
  if (absl::ToUnixSeconds(when) >= 0 && absl::ToUnixSeconds(when) < 253402300800) {  // < 10000
    const std::string date =
        absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", when, absl::UTCTimeZone());
    std::optional<absl::Duration> parsed = ds::ParseRetryAfter(date, now);
    FUZZ_CHECK(parsed.has_value());
    FUZZ_CHECK(*parsed == (offset > 0 ? absl::Seconds(offset) : absl::ZeroDuration()));
  }
  return 0;
}

}  // namespace qwenimage::fuzz
