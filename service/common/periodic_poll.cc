#include "service/common/periodic_poll.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace qwenimage {

struct PeriodicPoll::State {
  absl::Mutex mu;
  bool watching ABSL_GUARDED_BY(mu) = false;
  bool polling ABSL_GUARDED_BY(mu) = false;
  uint64_t epoch ABSL_GUARDED_BY(mu) = 0;  // +1 per start and stop; stale timers do nothing
  Executor* executor ABSL_GUARDED_BY(mu) = nullptr;
  const Clock* clock ABSL_GUARDED_BY(mu) = nullptr;
  absl::Duration interval ABSL_GUARDED_BY(mu);
  std::optional<Executor::TimerId> timer ABSL_GUARDED_BY(mu);
  // Called only by the single running poll, outside mu; Stop waits for that poll.
  PollFn poll;
  ErrorFn on_error;
  std::string last_error ABSL_GUARDED_BY(mu);  // reported already; "" after a good poll
};

PeriodicPoll::PeriodicPoll() : state_(std::make_shared<State>()) {}

PeriodicPoll::~PeriodicPoll() { Stop(); }

void PeriodicPoll::Start(Executor& executor, const Clock& clock, absl::Duration interval,
                         PollFn poll, ErrorFn on_error) {
  Stop();
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  s.watching = true;
  ++s.epoch;
  s.executor = &executor;
  s.clock = &clock;
  s.interval = interval;
  s.poll = std::move(poll);
  s.on_error = std::move(on_error);
  s.last_error.clear();
  Schedule(state_);
}

void PeriodicPoll::Stop() {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  if (!s.watching && !s.polling) return;
  s.watching = false;
  ++s.epoch;
  if (s.timer.has_value()) {
    // A timer that already fired may still run; it finds the epoch moved and does nothing.
    s.executor->CancelTimer(*s.timer);
    s.timer.reset();
  }
  s.mu.Await(absl::Condition(
      +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s->polling; }, &s));
}

void PeriodicPoll::Schedule(const std::shared_ptr<State>& state) {
  state->mu.AssertHeld();
  const uint64_t epoch = state->epoch;
  state->timer =
      state->executor->RunAt(state->clock->Now() + state->interval, [state, epoch] {
        {
          absl::MutexLock lock(&state->mu);
          if (!state->watching || state->epoch != epoch) return;
          state->timer.reset();
          state->polling = true;
        }
        Run(state);
      });
}

void PeriodicPoll::Run(const std::shared_ptr<State>& state) {
  const absl::Status status = state->poll();
  bool report = false;
  {
    absl::MutexLock lock(&state->mu);
    if (status.ok()) {
      state->last_error.clear();
    } else if (std::string message(status.message()); message != state->last_error) {
      state->last_error = std::move(message);
      report = state->on_error != nullptr;
    }
  }
  if (report) state->on_error(status);
  absl::MutexLock lock(&state->mu);
  state->polling = false;
  if (state->watching) Schedule(state);
}

}  // namespace qwenimage
