// FakeClock and ManualExecutor: deterministic time for unit tests. Nothing runs until the test
// calls RunUntilIdle() or AdvanceBy(), on the test's own thread.
#ifndef QWENIMAGE_TESTS_TESTING_MANUAL_EXECUTOR_H_
#define QWENIMAGE_TESTS_TESTING_MANUAL_EXECUTOR_H_

#include <deque>
#include <map>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "service/common/clock.h"
#include "service/common/executor.h"

namespace qwenimage::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

class ManualExecutor final : public Executor {
 public:
  explicit ManualExecutor(FakeClock& clock) : clock_(clock) {}

  void Run(absl::AnyInvocable<void()> fn) override {
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(fn));
  }
  TimerId RunAt(absl::Time when, absl::AnyInvocable<void()> fn) override {
    absl::MutexLock lock(&mu_);
    TimerId id = next_id_++;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    return id;
  }
  bool CancelTimer(TimerId id) override {
    absl::MutexLock lock(&mu_);
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Runs ready closures and due timers until none is left. Returns how many ran.
  int RunUntilIdle() {
    int ran = 0;
    for (;;) {
      absl::AnyInvocable<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        if (ready_.empty() && !timers_.empty() && timers_.begin()->first.first <= clock_.Now()) {
          ready_.push_back(std::move(timers_.begin()->second));
          timers_.erase(timers_.begin());
        }
        if (ready_.empty()) return ran;
        fn = std::move(ready_.front());
        ready_.pop_front();
      }
      fn();
      ++ran;
    }
  }

  // Moves time forward timer by timer, running everything due on the way.
  void AdvanceBy(absl::Duration d) {
    absl::Time end = clock_.Now() + d;
    RunUntilIdle();
    for (;;) {
      absl::Time next;
      {
        absl::MutexLock lock(&mu_);
        if (timers_.empty() || timers_.begin()->first.first > end) break;
        next = timers_.begin()->first.first;
      }
      if (next > clock_.Now()) clock_.Set(next);
      RunUntilIdle();
    }
    clock_.Set(end);
    RunUntilIdle();
  }

  size_t pending_timers() const {
    absl::MutexLock lock(&mu_);
    return timers_.size();
  }

 private:
  FakeClock& clock_;
  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> ready_;
  std::map<std::pair<absl::Time, TimerId>, absl::AnyInvocable<void()>> timers_;
  TimerId next_id_ = 1;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_MANUAL_EXECUTOR_H_
