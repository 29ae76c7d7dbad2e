// Executor: runs closures soon or at a given time. Layers above the I/O threads do their work
// here; tests substitute a manual executor driven by a fake clock.
#ifndef QWENIMAGE_SERVICE_COMMON_EXECUTOR_H_
#define QWENIMAGE_SERVICE_COMMON_EXECUTOR_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace qwenimage {

class Executor {
 public:
  using TimerId = uint64_t;
  virtual ~Executor() = default;

  // Runs `fn` as soon as a worker is free. Never inline.
  virtual void Run(absl::AnyInvocable<void()> fn) = 0;
  // Runs `fn` at or after `when` (by this executor's clock). Returns an id for CancelTimer.
  virtual TimerId RunAt(absl::Time when, absl::AnyInvocable<void()> fn) = 0;
  // Drops a timer that has not fired yet; returns whether it was dropped.
  virtual bool CancelTimer(TimerId id) = 0;
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_EXECUTOR_H_
