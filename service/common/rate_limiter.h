// RateLimiter: a token bucket that hands out future start times instead of refusing, so that a
// caller can schedule its call for exactly when the budget allows it.
#ifndef QWENIMAGE_SERVICE_COMMON_RATE_LIMITER_H_
#define QWENIMAGE_SERVICE_COMMON_RATE_LIMITER_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"

namespace qwenimage {

class RateLimiter {
 public:
  // `per_second` calls on average, at most `burst` back to back. per_second <= 0: unlimited.
  RateLimiter(const Clock& clock, double per_second, int burst);

  // Reserves one call and returns when it may start (now or later). Reservations are never
  // given back, so the budget holds even if the caller later drops the call.
  absl::Time Reserve();
  // Pushes every future reservation back to at least `until` (e.g. after a 429).
  void PauseUntil(absl::Time until);

 private:
  const Clock& clock_;
  const absl::Duration interval_;
  const absl::Duration burst_window_;
  absl::Mutex mu_;
  // Theoretical arrival time of the next call (GCRA).
  absl::Time next_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_RATE_LIMITER_H_
