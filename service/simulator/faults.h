// Fault injection: what should go wrong with one request, decided from `[sim:...]` markers in the
// prompt and from the per-endpoint probabilities in SimulatorOptions::faults.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/errors.h"
#include "service/simulator/options.h"

namespace qwenimage::simulator {

// How a reply leaves the server. kDrop closes the connection without a reply (FIN); on a create
// it is decided before any work, so nothing is created.
enum class Delivery { kNormal, kMalformed, kReset, kHang, kDrop };

struct FaultPlan {
  std::optional<ApiError> error;  // answer with this error instead of doing the work
  std::string task_fail_code;     // the task (or sync call) ends FAILED with this code
  int partial = 0;                // this many of the n images fail
  absl::Duration delay;           // extra latency before the reply
  Delivery delivery = Delivery::kNormal;
  // Do the work, then answer this HTTP status (408 or 5xx) with a load balancer's HTML page
  // instead of the real reply: the client cannot tell whether the work exists. 0 = off.
  int after_status = 0;
  // Seconds for a `Retry-After` header on any 429 this request is answered with.
  std::optional<int64_t> retry_after;
};

// Markers (any number, anywhere in the prompt):
//   [sim:fail=<Code>]   immediate error with that code's status/message
//   [sim:moderation]    400 DataInspectionFailed at create
//   [sim:status=<N>]    immediate HTTP N error
//   [sim:task_fail=<Code>]  task ends FAILED (sync: error reply) with that code
//   [sim:partial=<k>]   k of n images fail; all failing = FAILED task
//   [sim:slow=<duration>]   reply that much later (not scaled)
//   [sim:malformed] [sim:reset] [sim:hang]   delivery faults
//   [sim:drop]          close the connection without a reply; no work is done
//   [sim:after=<N>]     do the work, then answer HTTP N (408, 5xx) with an HTML body
//   [sim:retry_after=<seconds>]   any 429 this request gets carries Retry-After
FaultPlan PlanFromPrompt(absl::string_view prompt);

// One draw `u` in [0, 1) against `rates`; create-only kinds apply when `create` is set.
FaultPlan PlanFromRates(const FaultRates& rates, double u, bool create);

// Fields set in `overlay` replace those of `base` (markers override random draws).
FaultPlan MergePlans(FaultPlan base, const FaultPlan& overlay);

// A fault armed by `POST /__faults/once` for the next `count` requests to `endpoint`.
struct OneShotFault {
  std::string endpoint;
  int count = 1;
  FaultPlan plan;
};

// The endpoints a one-shot fault may target (the /__stats names of the DashScope endpoints).
bool IsApiEndpoint(absl::string_view endpoint);

// Reads the admin call's query parameters (already unescaped): `endpoint` (required), `count`
// (default 1), exactly one of `status=<N>` | `code=<Code>` | `after=<N>` | `drop=1` | `reset=1`,
// and optionally `retry_after=<seconds>`. InvalidArgument on anything else.
absl::StatusOr<OneShotFault> ParseOneShotFault(const std::map<std::string, std::string>& params);

// Armed one-shot faults per endpoint, consumed FIFO. Loop-thread only, like all simulator state.
class OneShotFaults {
 public:
  void Add(OneShotFault fault);
  // The plan for one request to `endpoint`, consuming one use; nullopt when none is armed.
  std::optional<FaultPlan> Take(const std::string& endpoint);
  void Clear() { pending_.clear(); }
  // Remaining uses per endpoint (endpoints with none are absent).
  std::map<std::string, int64_t> Pending() const;

 private:
  std::map<std::string, std::deque<OneShotFault>> pending_;
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_FAULTS_H_
