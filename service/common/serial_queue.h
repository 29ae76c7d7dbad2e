// SerialQueue: runs closures one at a time, in order, on an Executor (a "strand"). Everything
// that changes one task goes through its queue, so its transitions never interleave.
#ifndef QWENIMAGE_SERVICE_COMMON_SERIAL_QUEUE_H_
#define QWENIMAGE_SERVICE_COMMON_SERIAL_QUEUE_H_

#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "service/common/executor.h"

namespace qwenimage {

class SerialQueue : public std::enable_shared_from_this<SerialQueue> {
 public:
  explicit SerialQueue(Executor& executor) : executor_(executor) {}

  // Runs `fn` after every closure posted before it. Safe from any thread, including from a
  // closure of this queue (it then runs after the current one).
  void Post(absl::AnyInvocable<void()> fn);

 private:
  void Drain();

  Executor& executor_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> pending_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_SERIAL_QUEUE_H_
