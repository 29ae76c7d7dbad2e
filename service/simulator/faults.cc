// Prompt markers and probability draws turned into a FaultPlan.
#include "service/simulator/faults.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace qwenimage::simulator {
namespace {

void ApplyMarker(absl::string_view name, absl::string_view value, FaultPlan& plan) {
  int number = 0;
  absl::Duration d;
  if (name == "fail" && !value.empty()) {
    plan.error = ErrorForCode(value);
  } else if (name == "moderation") {
    plan.error = ErrorForCode("DataInspectionFailed");
  } else if (name == "status" && absl::SimpleAtoi(value, &number) && number >= 100 && number < 600) {
    plan.error = ErrorForStatus(number);
  } else if (name == "task_fail") {
    plan.task_fail_code = value.empty() ? "InternalError" : std::string(value);
  } else if (name == "partial") {
    plan.partial = absl::SimpleAtoi(value, &number) && number > 0 ? number : 1;
  } else if (name == "slow" && absl::ParseDuration(std::string(value), &d)) {
    plan.delay = d;
  } else if (name == "malformed") {
    plan.delivery = Delivery::kMalformed;
  } else if (name == "reset") {
    plan.delivery = Delivery::kReset;
  } else if (name == "hang") {
    plan.delivery = Delivery::kHang;
  }
}

}  // namespace

FaultPlan PlanFromPrompt(absl::string_view prompt) {
  FaultPlan plan;
  constexpr absl::string_view kOpen = "[sim:";
  for (size_t pos = prompt.find(kOpen); pos != absl::string_view::npos;
       pos = prompt.find(kOpen, pos + 1)) {
    size_t end = prompt.find(']', pos);
    if (end == absl::string_view::npos) break;
    absl::string_view marker = prompt.substr(pos + kOpen.size(), end - pos - kOpen.size());
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(marker, absl::MaxSplits('=', 1));
    ApplyMarker(kv.first, kv.second, plan);
  }
  return plan;
}

FaultPlan PlanFromRates(const FaultRates& r, double u, bool create) {
  FaultPlan plan;
  const double create_only = create ? 1.0 : 0.0;
  double edge = 0;
  auto hit = [&](double p) { return u < (edge += p); };
  if (hit(r.internal_error)) {
    plan.error = ErrorForCode("InternalError");
  } else if (hit(r.unavailable)) {
    plan.error = ErrorForCode("ModelUnavailable");
  } else if (hit(r.throttle)) {
    plan.error = ErrorForCode("Throttling.RateQuota");
  } else if (hit(r.malformed)) {
    plan.delivery = Delivery::kMalformed;
  } else if (hit(r.reset)) {
    plan.delivery = Delivery::kReset;
  } else if (hit(r.hang)) {
    plan.delivery = Delivery::kHang;
  } else if (hit(r.slow)) {
    plan.delay = r.slow_delay;
  } else if (hit(r.moderation * create_only)) {
    plan.error = ErrorForCode("DataInspectionFailed");
  } else if (hit(r.task_fail * create_only)) {
    plan.task_fail_code = "InternalError";
  } else if (hit(r.partial * create_only)) {
    plan.partial = 1;
  }
  return plan;
}

FaultPlan MergePlans(FaultPlan base, const FaultPlan& overlay) {
  if (overlay.error) base.error = overlay.error;
  if (!overlay.task_fail_code.empty()) base.task_fail_code = overlay.task_fail_code;
  if (overlay.partial > 0) base.partial = overlay.partial;
  if (overlay.delay > absl::ZeroDuration()) base.delay = overlay.delay;
  if (overlay.delivery != Delivery::kNormal) base.delivery = overlay.delivery;
  return base;
}

}  // namespace qwenimage::simulator
