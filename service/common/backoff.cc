#include "service/common/backoff.h"

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"

namespace qwenimage {

absl::Duration BackoffDelay(const BackoffPolicy& policy, int attempt,
                            std::optional<absl::Duration> retry_after) {
  thread_local absl::BitGen gen;
  double factor = std::ldexp(1.0, std::clamp(attempt - 1, 0, 30));
  absl::Duration ceiling = std::min(policy.max, policy.initial * factor);
  absl::Duration delay = ceiling * absl::Uniform(gen, 0.0, 1.0);
  if (retry_after.has_value()) delay = std::max(delay, *retry_after);
  return delay;
}

}  // namespace qwenimage
