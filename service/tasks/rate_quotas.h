// RateQuotas: the rolling windows behind two tenant quotas (tenant_quotas.h) —
// creates_per_minute (the times of the tenant's creates in the last minute) and images_per_day
// (images requested, the resolved n of each created task, over the last 24 hours, kept in
// one-minute buckets). A create reserves its place before it is stored and gives it back when
// it does not happen (an idempotent repeat, a refusal further on), so that concurrent creates
// never pass a limit together.
//
// Memory: a window holds at most `creates_per_minute` times and 1440 buckets; a tenant's
// windows are dropped once they are empty (checked for every tenant at most once a minute), and
// a quota of 0 (unlimited) keeps nothing.
//
// Restarts: the images_per_day window of a tenant is seeded from the task store (the tasks it
// created in the last 24 hours) the first time it is needed — after a restart, or after the
// window went idle and was dropped. Tasks deleted before a restart no longer count after it.
// The creates_per_minute window starts empty after a restart. Each gateway replica counts on
// its own (DESIGN.md §10): with N replicas a tenant may reach N times its rate quotas.
#ifndef QWENIMAGE_SERVICE_TASKS_RATE_QUOTAS_H_
#define QWENIMAGE_SERVICE_TASKS_RATE_QUOTAS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/tasks/tenant_quotas.h"

namespace qwenimage::tasks {

class RateQuotas {
 public:
  static constexpr absl::Duration kCreatesWindow = absl::Minutes(1);
  static constexpr absl::Duration kImagesWindow = absl::Hours(24);

  // The tasks `tenant` created at or after `since`: (create time, images requested) each.
  // Called without any lock held; may block on the store.
  using LoadFn = std::function<absl::StatusOr<std::vector<std::pair<absl::Time, int>>>(
      const std::string& tenant, absl::Time since)>;

  RateQuotas(const Clock& clock, LoadFn load);

  struct Reservation {
    std::string tenant;
    absl::Time at;
    bool create = false;  // counted against creates_per_minute
    int images = 0;       // counted against images_per_day
  };

  // Counts one create of `images` images for `tenant` if its quotas allow it. Otherwise
  // RESOURCE_EXHAUSTED with a QuotaExceeded payload (quota_error.h) and nothing counted; or the
  // store's error if the images window could not be seeded.
  absl::StatusOr<Reservation> Reserve(const std::string& tenant, const TenantQuotas& quotas,
                                      int images);
  // Uncounts a reservation whose create did not happen.
  void Cancel(const Reservation& reservation);

  // Tenants whose windows are held (the memory bound, for tests).
  size_t TrackedTenants() const;

 private:
  struct Bucket {
    absl::Time first;  // the bucket spans [first, first + 1 minute)
    absl::Time last;   // expires kImagesWindow after its last entry
    int64_t images = 0;
  };
  struct Window {
    std::deque<absl::Time> creates;  // oldest first
    bool images_seeded = false;
    std::deque<Bucket> images;  // oldest first
    int64_t images_total = 0;
    bool empty() const { return creates.empty() && images.empty(); }
  };

  static void Prune(Window& w, absl::Time now);
  static void AddImages(Window& w, absl::Time at, int64_t images);
  // Drops every empty window but `keep`'s (at most once a minute).
  void SweepLocked(absl::Time now, const std::string& keep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const LoadFn load_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_RATE_QUOTAS_H_
