// Fault injection: what should go wrong with one request, decided from `[sim:...]` markers in the
// prompt and from the per-endpoint probabilities in SimulatorOptions::faults.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/errors.h"
#include "service/simulator/options.h"

namespace qwenimage::simulator {

// How a reply leaves the server.
enum class Delivery { kNormal, kMalformed, kReset, kHang };

struct FaultPlan {
  std::optional<ApiError> error;  // answer with this error instead of doing the work
  std::string task_fail_code;     // the task (or sync call) ends FAILED with this code
  int partial = 0;                // this many of the n images fail
  absl::Duration delay;           // extra latency before the reply
  Delivery delivery = Delivery::kNormal;
};

// Markers (any number, anywhere in the prompt):
//   [sim:fail=<Code>]   immediate error with that code's status/message
//   [sim:moderation]    400 DataInspectionFailed at create
//   [sim:status=<N>]    immediate HTTP N error
//   [sim:task_fail=<Code>]  task ends FAILED (sync: error reply) with that code
//   [sim:partial=<k>]   k of n images fail; all failing = FAILED task
//   [sim:slow=<duration>]   reply that much later (not scaled)
//   [sim:malformed] [sim:reset] [sim:hang]   delivery faults
FaultPlan PlanFromPrompt(absl::string_view prompt);

// One draw `u` in [0, 1) against `rates`; create-only kinds apply when `create` is set.
FaultPlan PlanFromRates(const FaultRates& rates, double u, bool create);

// Fields set in `overlay` replace those of `base` (markers override random draws).
FaultPlan MergePlans(FaultPlan base, const FaultPlan& overlay);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_
