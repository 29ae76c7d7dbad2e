// ThreadPool: the production Executor — a fixed set of worker threads and one timer heap.
// Closures must not block for long: slow I/O belongs on the HTTP event loop.
#ifndef QWENIMAGE_SERVICE_COMMON_THREAD_POOL_H_
#define QWENIMAGE_SERVICE_COMMON_THREAD_POOL_H_

#include <deque>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "service/common/executor.h"

namespace qwenimage {

class ThreadPool final : public Executor {
 public:
  explicit ThreadPool(int threads);
  // Runs what is already queued (not future timers), then joins the workers.
  ~ThreadPool() override;

  void Run(absl::AnyInvocable<void()> fn) override;
  TimerId RunAt(absl::Time when, absl::AnyInvocable<void()> fn) override;
  bool CancelTimer(TimerId id) override;

 private:
  void WorkerLoop();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> ready_ ABSL_GUARDED_BY(mu_);
  // Keyed by (deadline, id) so that equal deadlines keep insertion order.
  std::map<std::pair<absl::Time, TimerId>, absl::AnyInvocable<void()>> timers_
      ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> timer_deadlines_ ABSL_GUARDED_BY(mu_);
  TimerId next_timer_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_THREAD_POOL_H_
