#include "service/common/thread_pool.h"

#include "absl/time/clock.h"

namespace qwenimage {

ThreadPool::ThreadPool(int threads) {
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Run(absl::AnyInvocable<void()> fn) {
  absl::MutexLock lock(&mu_);
  ready_.push_back(std::move(fn));
}

Executor::TimerId ThreadPool::RunAt(absl::Time when, absl::AnyInvocable<void()> fn) {
  absl::MutexLock lock(&mu_);
  TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_deadlines_.emplace(id, when);
  return id;
}

bool ThreadPool::CancelTimer(TimerId id) {
  absl::MutexLock lock(&mu_);
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  return true;
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    absl::AnyInvocable<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        absl::Time now = absl::Now();
        // Move due timers to the ready queue so they run in deadline order.
        while (!timers_.empty() && timers_.begin()->first.first <= now) {
          auto node = timers_.extract(timers_.begin());
          timer_deadlines_.erase(node.key().second);
          ready_.push_back(std::move(node.mapped()));
        }
        if (!ready_.empty()) {
          fn = std::move(ready_.front());
          ready_.pop_front();
          break;
        }
        if (stopping_) return;
        absl::Duration wait = timers_.empty()
                                  ? absl::Seconds(1)
                                  : timers_.begin()->first.first - now;
        auto wake = [this]() {
          return !ready_.empty() || stopping_ ||
                 (!timers_.empty() && timers_.begin()->first.first <= absl::Now());
        };
        mu_.AwaitWithTimeout(absl::Condition(&wake), wait);
      }
    }
    fn();
  }
}

}  // namespace qwenimage
