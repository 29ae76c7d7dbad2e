#include "service/common/serial_queue.h"

#include <utility>

namespace qwenimage {

void SerialQueue::Post(absl::AnyInvocable<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    pending_.push_back(std::move(fn));
    if (draining_) return;
    draining_ = true;
  }
  // The queue keeps itself alive until drained.
  executor_.Run([self = shared_from_this()] { self->Drain(); });
}

void SerialQueue::Drain() {
  for (;;) {
    absl::AnyInvocable<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      if (pending_.empty()) {
        draining_ = false;
        return;
      }
      fn = std::move(pending_.front());
      pending_.pop_front();
    }
    fn();
  }
}

}  // namespace qwenimage
