// Prompt markers and probability draws turned into a FaultPlan.
#include "service/simulator/faults.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qwenimage::simulator {
namespace {

void ApplyMarker(absl::string_view name, absl::string_view value, FaultPlan& plan) {
  int number = 0;
  int64_t seconds = 0;
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
  } else if (name == "drop") {
    plan.delivery = Delivery::kDrop;
  } else if (name == "after" && absl::SimpleAtoi(value, &number) && IsGatewayStatus(number)) {
    plan.after_status = number;
  } else if (name == "retry_after" && absl::SimpleAtoi(value, &seconds) && seconds >= 0) {
    plan.retry_after = seconds;
  }
}

constexpr absl::string_view kApiEndpoints[] = {"generation", "image-synthesis", "task_get",
                                               "task_list",  "task_cancel",     "image"};

absl::Status BadParam(absl::string_view name, absl::string_view value, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(name, "='", value, "': ", want));
}

// The fault a one-shot admin call arms: exactly one kind parameter.
absl::Status SetOneShotKind(absl::string_view name, const std::string& value, FaultPlan& plan) {
  int number = 0;
  if (name == "status") {
    if (!absl::SimpleAtoi(value, &number) || number < 400 || number > 599) {
      return BadParam(name, value, "want an HTTP error status 400..599");
    }
    plan.error = ErrorForStatus(number);
  } else if (name == "code") {
    if (value.empty()) return BadParam(name, value, "want a DashScope error code");
    plan.error = ErrorForCode(value);
  } else if (name == "after") {
    if (!absl::SimpleAtoi(value, &number) || !IsGatewayStatus(number)) {
      return BadParam(name, value, "want 408 or 500..599");
    }
    plan.after_status = number;
  } else if (name == "drop" || name == "reset") {
    if (value != "1") return BadParam(name, value, "want 1");
    plan.delivery = name == "drop" ? Delivery::kDrop : Delivery::kReset;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsApiEndpoint(absl::string_view endpoint) {
  for (absl::string_view e : kApiEndpoints) {
    if (e == endpoint) return true;
  }
  return false;
}

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
  } else if (hit(r.drop)) {
    plan.delivery = Delivery::kDrop;
  } else {
    for (const auto& [status, p] : r.after) {
      if (hit(p)) {
        plan.after_status = status;
        break;
      }
    }
  }
  plan.retry_after = r.retry_after;  // a property of the endpoint, not a draw
  return plan;
}

FaultPlan MergePlans(FaultPlan base, const FaultPlan& overlay) {
  if (overlay.error) base.error = overlay.error;
  if (!overlay.task_fail_code.empty()) base.task_fail_code = overlay.task_fail_code;
  if (overlay.partial > 0) base.partial = overlay.partial;
  if (overlay.delay > absl::ZeroDuration()) base.delay = overlay.delay;
  if (overlay.delivery != Delivery::kNormal) base.delivery = overlay.delivery;
  if (overlay.after_status != 0) base.after_status = overlay.after_status;
  if (overlay.retry_after) base.retry_after = overlay.retry_after;
  return base;
}

absl::StatusOr<OneShotFault> ParseOneShotFault(const std::map<std::string, std::string>& params) {
  constexpr absl::string_view kKinds[] = {"status", "code", "after", "drop", "reset"};
  OneShotFault fault;
  int kinds = 0;
  for (const auto& [name, value] : params) {
    if (name == "endpoint") {
      if (!IsApiEndpoint(value)) {
        return BadParam(name, value,
                        "want generation, image-synthesis, task_get, task_list, task_cancel or image");
      }
      fault.endpoint = value;
    } else if (name == "count") {
      if (!absl::SimpleAtoi(value, &fault.count) || fault.count < 1) {
        return BadParam(name, value, "want a positive integer");
      }
    } else if (name == "retry_after") {
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds) || seconds < 0) {
        return BadParam(name, value, "want non-negative integer seconds");
      }
      fault.plan.retry_after = seconds;
    } else if (std::find(std::begin(kKinds), std::end(kKinds), name) != std::end(kKinds)) {
      ++kinds;
      if (absl::Status s = SetOneShotKind(name, value, fault.plan); !s.ok()) return s;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown parameter '", name, "'"));
    }
  }
  if (fault.endpoint.empty()) return absl::InvalidArgumentError("endpoint is required");
  if (kinds != 1) {
    return absl::InvalidArgumentError("want exactly one of status, code, after, drop, reset");
  }
  return fault;
}

void OneShotFaults::Add(OneShotFault fault) {
  std::string endpoint = fault.endpoint;
  pending_[endpoint].push_back(std::move(fault));
}

std::optional<FaultPlan> OneShotFaults::Take(const std::string& endpoint) {
  auto it = pending_.find(endpoint);
  if (it == pending_.end()) return std::nullopt;
  std::deque<OneShotFault>& queue = it->second;
  FaultPlan plan = queue.front().plan;
  if (--queue.front().count == 0) queue.pop_front();
  if (queue.empty()) pending_.erase(it);
  return plan;
}

std::map<std::string, int64_t> OneShotFaults::Pending() const {
  std::map<std::string, int64_t> out;
  for (const auto& [endpoint, queue] : pending_) {
    for (const OneShotFault& f : queue) out[endpoint] += f.count;
  }
  return out;
}

}  // namespace qwenimage::simulator
