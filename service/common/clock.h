// Clock: the source of "now" for every layer, so that time-driven logic (queues, polling,
// backoff, expiry) is tested on a fake clock.
#ifndef QWENIMAGE_SERVICE_COMMON_CLOCK_H_
#define QWENIMAGE_SERVICE_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace qwenimage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance.
  static RealClock* Get() {
    static RealClock* clock = new RealClock;
    return clock;
  }
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_CLOCK_H_
