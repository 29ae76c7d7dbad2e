// Exponential backoff with full jitter (AWS architecture blog's "Full Jitter"): spreads retries
// of many clients so that they do not hit upstream in waves.
#ifndef QWENIMAGE_SERVICE_COMMON_BACKOFF_H_
#define QWENIMAGE_SERVICE_COMMON_BACKOFF_H_

#include <optional>

#include "absl/time/time.h"

namespace qwenimage {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(500);
  absl::Duration max = absl::Seconds(30);
  int max_attempts = 6;  // attempts in all, the first included
};

// Delay before retry number `attempt` (1 = first retry): uniform in [0, min(max, initial *
// 2^(attempt-1))], but never less than `retry_after` when the server asked for it.
absl::Duration BackoffDelay(const BackoffPolicy& policy, int attempt,
                            std::optional<absl::Duration> retry_after = std::nullopt);

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_BACKOFF_H_
