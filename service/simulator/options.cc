// Parsers for the simulator's textual knobs (durations, fault specs, over-limit modes), shared by
// the dashscope-sim flags and tests.
#include "service/simulator/options.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/simulator/errors.h"

namespace qwenimage::simulator {
namespace {

absl::Status SetFaultField(FaultRates& rates, absl::string_view key, absl::string_view value) {
  if (key == "slow_delay") {
    absl::StatusOr<absl::Duration> d = ParseNonNegativeDuration(value);
    if (!d.ok()) return d.status();
    rates.slow_delay = *d;
    return absl::OkStatus();
  }
  if (key == "retry_after") {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(value, &seconds) || seconds < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault 'retry_after': '", value, "' is not non-negative integer seconds"));
    }
    rates.retry_after = seconds;
    return absl::OkStatus();
  }
  double p;
  const bool p_ok = absl::SimpleAtod(value, &p) && p >= 0 && p <= 1;
  auto bad_p = [&] {
    return absl::InvalidArgumentError(absl::StrCat("fault '", key, "': probability '", value,
                                                   "' not in [0,1]"));
  };
  if (absl::string_view status = key; absl::ConsumeSuffix(&status, "_after")) {
    int n = 0;
    if (!absl::SimpleAtoi(status, &n) || !IsGatewayStatus(n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault '", key, "': <N>_after wants N = 408 or 500..599"));
    }
    if (!p_ok) return bad_p();
    rates.after[n] = p;
    return absl::OkStatus();
  }
  const std::pair<absl::string_view, double FaultRates::*> kFields[] = {
      {"500", &FaultRates::internal_error}, {"503", &FaultRates::unavailable},
      {"429", &FaultRates::throttle},       {"malformed", &FaultRates::malformed},
      {"reset", &FaultRates::reset},        {"hang", &FaultRates::hang},
      {"slow", &FaultRates::slow},          {"moderation", &FaultRates::moderation},
      {"task_fail", &FaultRates::task_fail}, {"partial", &FaultRates::partial},
      {"drop", &FaultRates::drop},
  };
  for (const auto& [name, field] : kFields) {
    if (name != key) continue;
    if (!p_ok) return bad_p();
    rates.*field = p;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown fault kind '", key, "'"));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseNonNegativeDuration(absl::string_view text) {
  absl::Duration d;
  std::string s(absl::StripAsciiWhitespace(text));
  if (!absl::ParseDuration(s, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad duration '", s, "'"));
  }
  return d;
}

absl::StatusOr<DurationRange> ParseDurationRange(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, "..");
  if (parts.size() > 2) return absl::InvalidArgumentError(absl::StrCat("bad range '", text, "'"));
  absl::StatusOr<absl::Duration> lo = ParseNonNegativeDuration(parts[0]);
  if (!lo.ok()) return lo.status();
  absl::StatusOr<absl::Duration> hi = parts.size() == 2 ? ParseNonNegativeDuration(parts[1]) : lo;
  if (!hi.ok()) return hi.status();
  if (*hi < *lo) return absl::InvalidArgumentError(absl::StrCat("empty range '", text, "'"));
  return DurationRange{*lo, *hi};
}

absl::StatusOr<std::map<std::string, FaultRates>> ParseFaults(absl::string_view text) {
  std::map<std::string, FaultRates> out;
  for (absl::string_view group : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> ep_rest = absl::StrSplit(group, ':');
    std::string endpoint(absl::StripAsciiWhitespace(ep_rest.first));
    if (endpoint.empty() || ep_rest.second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("fault group '", group,
                                                     "' must be endpoint:kind=p,..."));
    }
    FaultRates& rates = out[endpoint];
    for (absl::string_view item : absl::StrSplit(ep_rest.second, ',', absl::SkipWhitespace())) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, '=');
      absl::Status s = SetFaultField(rates, absl::StripAsciiWhitespace(kv.first),
                                     absl::StripAsciiWhitespace(kv.second));
      if (!s.ok()) return s;
    }
  }
  return out;
}

absl::StatusOr<OverLimit> ParseOverLimit(absl::string_view text) {
  if (text == "queue") return OverLimit::kQueue;
  if (text == "reject") return OverLimit::kReject;
  return absl::InvalidArgumentError(absl::StrCat("over-limit mode '", text,
                                                 "' must be queue or reject"));
}

}  // namespace qwenimage::simulator
