// PeriodicPoll: runs one poll every interval on an executor until Stop(), and reports its
// failures once per distinct message rather than every interval. ApiKeyFile and the
// Authenticator watch their mounted files with it.
#ifndef QWENIMAGE_SERVICE_COMMON_PERIODIC_POLL_H_
#define QWENIMAGE_SERVICE_COMMON_PERIODIC_POLL_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"

namespace qwenimage {

class PeriodicPoll {
 public:
  using PollFn = absl::AnyInvocable<absl::Status()>;
  using ErrorFn = absl::AnyInvocable<void(const absl::Status& error)>;

  PeriodicPoll();
  ~PeriodicPoll();  // Stop()
  PeriodicPoll(const PeriodicPoll&) = delete;
  PeriodicPoll& operator=(const PeriodicPoll&) = delete;

  // (Re)starts: `poll` runs every `interval` (by `clock`, on `executor`), never two at once; a
  // failure whose message differs from the last one reported goes to `on_error`. Both are
  // called outside every lock of this class. `executor` and `clock` must outlive Stop().
  void Start(Executor& executor, const Clock& clock, absl::Duration interval, PollFn poll,
             ErrorFn on_error = nullptr);
  // Cancels the next poll and waits for one that is running. Idempotent. Not from `poll` or
  // `on_error` (it would wait for itself).
  void Stop();

 private:
  struct State;
  static void Schedule(const std::shared_ptr<State>& state)
      ABSL_NO_THREAD_SAFETY_ANALYSIS;  // state->mu held
  static void Run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_PERIODIC_POLL_H_
