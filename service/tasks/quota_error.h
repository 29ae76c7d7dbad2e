// QuotaExceeded: the tasks layer's verdict that a tenant quota (tenant_quotas.h) refused a
// create, carried as a RESOURCE_EXHAUSTED absl::Status payload so that the api layer can turn it
// into google.rpc QuotaFailure and RetryInfo details (service/api/status.cc).
#ifndef QWENIMAGE_SERVICE_TASKS_QUOTA_ERROR_H_
#define QWENIMAGE_SERVICE_TASKS_QUOTA_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::tasks {

enum class QuotaKind { kMaxQueued, kMaxRunning, kCreatesPerMinute, kImagesPerDay };

// "max_queued", "max_running", "creates_per_minute", "images_per_day": the TenantQuotas field
// and the metric label. (Inline: the metrics layer uses it without linking the tasks layer.)
inline absl::string_view QuotaName(QuotaKind quota) {
  switch (quota) {
    case QuotaKind::kMaxQueued: return "max_queued";
    case QuotaKind::kMaxRunning: return "max_running";
    case QuotaKind::kCreatesPerMinute: return "creates_per_minute";
    case QuotaKind::kImagesPerDay: return "images_per_day";
  }
  return "max_queued";
}

struct QuotaExceeded {
  std::string tenant;
  QuotaKind quota = QuotaKind::kMaxQueued;
  int64_t limit = 0;
  // When a retry may succeed; unset when waiting cannot help (a request larger than the limit).
  std::optional<absl::Duration> retry_after;
};

// RESOURCE_EXHAUSTED naming the quota and its limit, with `e` as its payload.
absl::Status QuotaExceededError(const QuotaExceeded& e);
// The payload of a QuotaExceededError; nullopt for any other status.
std::optional<QuotaExceeded> GetQuotaExceeded(const absl::Status& status);

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_QUOTA_ERROR_H_
