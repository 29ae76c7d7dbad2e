#include "service/common/rate_limiter.h"

#include <algorithm>

namespace qwenimage {

RateLimiter::RateLimiter(const Clock& clock, double per_second, int burst)
    : clock_(clock),
      interval_(per_second > 0 ? absl::Seconds(1.0 / per_second) : absl::ZeroDuration()),
      burst_window_(interval_ * std::max(burst - 1, 0)) {}

absl::Time RateLimiter::Reserve() {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (interval_ == absl::ZeroDuration()) return std::max(now, next_);
  // GCRA: a call may start once `next_ - burst_window_` has passed.
  absl::Time tat = std::max(next_, now);
  absl::Time start = std::max(now, tat - burst_window_);
  next_ = tat + interval_;
  return start;
}

void RateLimiter::PauseUntil(absl::Time until) {
  absl::MutexLock lock(&mu_);
  next_ = std::max(next_, until + burst_window_);
}

}  // namespace qwenimage
