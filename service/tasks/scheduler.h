// Scheduler: the admission queue per model in front of DashScope's per-account limits (running
// tasks, submits per second). Tasks wait here in QUEUED; tenants take turns (round robin).
//
// Tenant quotas applied here (tenant_quotas.h): max_queued bounds a tenant's queued tasks
// (RESOURCE_EXHAUSTED with a QuotaExceeded payload, quota_error.h); max_running caps the slots of
// one model a tenant holds while another tenant waits for that model:
//   - A tenant's cap is its max_running, or when that is 0 a fair share of the model's running
//     limit: ceil(max_running / tenants with tasks queued or holding slots for the model).
//   - Admission takes the next tenant in turn that holds fewer slots than its cap; when every
//     waiting tenant is at its cap (or only one waits), the next in turn is admitted anyway, so
//     no slot idles while work waits (work-conserving). A tenant may thus exceed its cap while
//     nobody else waits; slots already held are never taken back.
//   - max_running only delays admission: it refuses no create.
// A tenant's quotas are the ones its last Enqueue brought, or SchedulerOptions::tenant_defaults;
// they are forgotten once the tenant has nothing queued or running (memory stays bounded by
// the tenants with work).
#ifndef QWENIMAGE_SERVICE_TASKS_SCHEDULER_H_
#define QWENIMAGE_SERVICE_TASKS_SCHEDULER_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/tasks/tenant_quotas.h"

namespace qwenimage::tasks {

struct ModelLimits {
  int max_running = 0;              // tasks running upstream; 0 = unlimited
  double submits_per_second = 0;    // 0 = unlimited
  // Tasks submitted beyond max_running, to wait PENDING upstream (DashScope queues async tasks
  // over the running limit), so a slot that frees upstream is taken at once instead of idling
  // until the gateway notices. 0 = never exceed max_running.
  int queue_ahead = 0;
};

struct SchedulerOptions {
  int max_queued_total = 10000;     // across all models and tenants
  // The quotas of a tenant queued without its own (tasks resumed at start); only max_queued
  // and max_running apply here. The TaskManager sets it from TaskManagerOptions.
  TenantQuotas tenant_defaults = {/*max_queued=*/1000, /*max_running=*/0, 0, 0};
  ModelLimits default_limits;
  absl::flat_hash_map<std::string, ModelLimits> model_limits;  // overrides by model name
};

class Scheduler {
 public:
  // Called (outside any lock, from the caller of Enqueue/Release or an executor thread) when a
  // task of `model` may be submitted upstream; it then holds a running slot until Release(),
  // which the callee owes even for a task it no longer knows.
  using AdmitFn = std::function<void(const std::string& task_id, const std::string& model,
                                     const std::string& tenant)>;
  // Called with the new 1-based positions of queued tasks whose position changed.
  using PositionsFn = std::function<void(const std::vector<std::pair<std::string, int>>&)>;

  Scheduler(SchedulerOptions options, Executor& executor, const Clock& clock, AdmitFn admit,
            PositionsFn positions);
  // Admits nothing more and drops its timers. The executor must outlive the scheduler or Stop().
  void Stop();

  // Queues a task; returns its position. RESOURCE_EXHAUSTED when a bound is reached. `front`
  // gives back a task that was admitted already (upstream refused it): bounds do not apply and
  // it goes before every task of its tenant created after it (`created`; the clock if unset),
  // so that several given back keep their order. `quotas` (the caller's) replace the tenant's;
  // nullptr keeps the ones it has (or the defaults).
  absl::StatusOr<int> Enqueue(const std::string& model, const std::string& tenant,
                              const std::string& task_id, bool front = false,
                              std::optional<absl::Time> created = std::nullopt,
                              const TenantQuotas* quotas = nullptr);
  // Removes a queued task (cancel). False if it is not queued (already admitted or unknown).
  bool Remove(const std::string& task_id);
  // A task that holds a slot without having been admitted here (resumed after a restart).
  void AcquireRunning(const std::string& model, const std::string& tenant);
  // Frees a slot of `model` held by `tenant` (a task running or waiting upstream).
  void Release(const std::string& model, const std::string& tenant);
  // Upstream throttled `model`: submit nothing more for it before `delay` has passed.
  void Throttle(const std::string& model, absl::Duration delay);
  // Upstream refuses tasks over its running limit rather than queueing them: keep `model`
  // within max_running from now on. True if it submitted ahead until now.
  bool StopQueueAhead(const std::string& model);

  // While paused (upstream refuses the key), nothing is admitted; queued tasks keep their places.
  void SetPaused(bool paused);
  // Removes and returns every queued task (a key outage that lasted too long).
  std::vector<std::string> TakeQueued();

  int QueuedCount(const std::string& model) const;
  int RunningCount(const std::string& model) const;
  // Slots of `model` held by `tenant`.
  int RunningCount(const std::string& model, const std::string& tenant) const;
  // 1-based position of a queued task; 0 if not queued.
  int Position(const std::string& task_id) const;

 private:
  struct ModelQueue {
    ModelLimits limits;
    absl::flat_hash_map<std::string, std::deque<std::string>> by_tenant;
    std::deque<std::string> rotation;  // tenants with queued tasks, next first
    int queued = 0;
    int running = 0;
    absl::flat_hash_map<std::string, int> running_by_tenant;  // tenants holding slots
    absl::Time next_submit = absl::InfinitePast();
    Executor::TimerId timer = 0;
  };

  ModelQueue& QueueFor(const std::string& model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const TenantQuotas& QuotasOf(const std::string& tenant) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the quotas of a tenant with nothing queued or running.
  void ForgetIfIdleLocked(const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The rotation entry of the tenant whose task is admitted next (see the header comment).
  std::deque<std::string>::iterator NextTenantLocked(ModelQueue& q)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `q` may have one more task in flight upstream.
  static bool HasRoom(const ModelQueue& q) {
    return q.limits.max_running <= 0 || q.running < q.limits.max_running + q.limits.queue_ahead;
  }
  using Admitted = std::pair<std::string, std::string>;  // task id, tenant
  // Admits what the limits allow and recomputes positions; returns the admitted tasks.
  std::vector<Admitted> PumpLocked(const std::string& model, ModelQueue& q,
                                   std::vector<std::pair<std::string, int>>* moved)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecomputePositionsLocked(ModelQueue& q, std::vector<std::pair<std::string, int>>* moved)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Pump(const std::string& model);
  void Notify(const std::string& model, std::vector<Admitted> admitted,
              std::vector<std::pair<std::string, int>> moved);

  const SchedulerOptions options_;
  Executor& executor_;
  const Clock& clock_;
  const AdmitFn admit_;
  const PositionsFn positions_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ModelQueue> queues_ ABSL_GUARDED_BY(mu_);
  // task id → (model, tenant) for queued tasks, their order keys and current positions.
  absl::flat_hash_map<std::string, std::pair<std::string, std::string>> queued_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> created_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> positions_by_task_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> queued_by_tenant_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> running_by_tenant_ ABSL_GUARDED_BY(mu_);  // all models
  absl::flat_hash_map<std::string, TenantQuotas> quotas_ ABSL_GUARDED_BY(mu_);
  int queued_total_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_SCHEDULER_H_
