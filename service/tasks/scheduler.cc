#include "service/tasks/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/tasks/quota_error.h"

namespace qwenimage::tasks {
namespace {

// A tenant's queue frees a place when one of its tasks is admitted, which the scheduler cannot
// date: a hint short enough to notice, long enough not to hammer.
constexpr absl::Duration kQueuedRetryHint = absl::Seconds(5);

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, Executor& executor, const Clock& clock,
                     AdmitFn admit, PositionsFn positions)
    : options_(std::move(options)),
      executor_(executor),
      clock_(clock),
      admit_(std::move(admit)),
      positions_(std::move(positions)) {}

void Scheduler::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  for (auto& [model, q] : queues_) {
    if (q.timer != 0) executor_.CancelTimer(q.timer);
    q.timer = 0;
  }
}

Scheduler::ModelQueue& Scheduler::QueueFor(const std::string& model) {
  auto [it, inserted] = queues_.try_emplace(model);
  if (inserted) {
    auto limit = options_.model_limits.find(model);
    it->second.limits =
        limit != options_.model_limits.end() ? limit->second : options_.default_limits;
  }
  return it->second;
}

const TenantQuotas& Scheduler::QuotasOf(const std::string& tenant) const {
  auto it = quotas_.find(tenant);
  return it == quotas_.end() ? options_.tenant_defaults : it->second;
}

void Scheduler::ForgetIfIdleLocked(const std::string& tenant) {
  if (!queued_by_tenant_.contains(tenant) && !running_by_tenant_.contains(tenant)) {
    quotas_.erase(tenant);
  }
}

absl::StatusOr<int> Scheduler::Enqueue(const std::string& model, const std::string& tenant,
                                       const std::string& task_id, bool front,
                                       std::optional<absl::Time> created,
                                       const TenantQuotas* quotas) {
  std::vector<Admitted> admitted;
  std::vector<std::pair<std::string, int>> moved;
  int position = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return absl::UnavailableError("the scheduler is stopped");
    if (quotas != nullptr) quotas_[tenant] = *quotas;
    // A task given back after throttling already had its place: bounds do not apply to it.
    if (!front) {
      if (queued_total_ >= options_.max_queued_total) {
        ForgetIfIdleLocked(tenant);
        return absl::ResourceExhaustedError(
            absl::StrCat("the gateway queue is full (", options_.max_queued_total,
                         " tasks); retry later"));
      }
      const int max_queued = QuotasOf(tenant).max_queued;
      auto queued = queued_by_tenant_.find(tenant);
      if (max_queued > 0 && queued != queued_by_tenant_.end() && queued->second >= max_queued) {
        return QuotaExceededError(
            {tenant, QuotaKind::kMaxQueued, max_queued, kQueuedRetryHint});
      }
    }
    ModelQueue& q = QueueFor(model);
    std::deque<std::string>& line = q.by_tenant[tenant];
    if (line.empty()) {
      if (front) {
        q.rotation.push_front(tenant);
      } else {
        q.rotation.push_back(tenant);
      }
    }
    const absl::Time key = created.value_or(clock_.Now());
    if (front) {
      auto at = std::find_if(line.begin(), line.end(),
                             [&](const std::string& id) { return created_[id] > key; });
      line.insert(at, task_id);
    } else {
      line.push_back(task_id);
    }
    created_[task_id] = key;
    ++q.queued;
    ++queued_total_;
    ++queued_by_tenant_[tenant];
    queued_[task_id] = {model, tenant};
    admitted = PumpLocked(model, q, &moved);
    auto pos = positions_by_task_.find(task_id);
    position = pos == positions_by_task_.end() ? 0 : pos->second;
  }
  Notify(model, std::move(admitted), std::move(moved));
  return position;
}

bool Scheduler::Remove(const std::string& task_id) {
  std::vector<std::pair<std::string, int>> moved;
  {
    absl::MutexLock lock(&mu_);
    auto it = queued_.find(task_id);
    if (it == queued_.end()) return false;
    auto [model, tenant] = it->second;
    queued_.erase(it);
    created_.erase(task_id);
    positions_by_task_.erase(task_id);
    ModelQueue& q = QueueFor(model);
    std::deque<std::string>& line = q.by_tenant[tenant];
    line.erase(std::find(line.begin(), line.end(), task_id));
    if (line.empty()) {
      q.by_tenant.erase(tenant);
      q.rotation.erase(std::find(q.rotation.begin(), q.rotation.end(), tenant));
    }
    --q.queued;
    --queued_total_;
    if (--queued_by_tenant_[tenant] == 0) queued_by_tenant_.erase(tenant);
    ForgetIfIdleLocked(tenant);
    RecomputePositionsLocked(q, &moved);
  }
  Notify("", {}, std::move(moved));
  return true;
}

void Scheduler::AcquireRunning(const std::string& model, const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  ModelQueue& q = QueueFor(model);
  ++q.running;
  ++q.running_by_tenant[tenant];
  ++running_by_tenant_[tenant];
}

void Scheduler::Release(const std::string& model, const std::string& tenant) {
  {
    absl::MutexLock lock(&mu_);
    ModelQueue& q = QueueFor(model);
    q.running = std::max(0, q.running - 1);
    if (auto it = q.running_by_tenant.find(tenant);
        it != q.running_by_tenant.end() && --it->second <= 0) {
      q.running_by_tenant.erase(it);
    }
    if (auto it = running_by_tenant_.find(tenant);
        it != running_by_tenant_.end() && --it->second <= 0) {
      running_by_tenant_.erase(it);
    }
    ForgetIfIdleLocked(tenant);
  }
  Pump(model);
}

void Scheduler::Throttle(const std::string& model, absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  ModelQueue& q = QueueFor(model);
  q.next_submit = std::max(q.next_submit, clock_.Now() + delay);
}

bool Scheduler::StopQueueAhead(const std::string& model) {
  absl::MutexLock lock(&mu_);
  ModelQueue& q = QueueFor(model);
  if (q.limits.queue_ahead == 0) return false;
  q.limits.queue_ahead = 0;
  return true;
}

void Scheduler::SetPaused(bool paused) {
  std::vector<std::string> models;
  {
    absl::MutexLock lock(&mu_);
    paused_ = paused;
    if (paused) return;
    for (const auto& [model, q] : queues_) models.push_back(model);
  }
  for (const std::string& model : models) Pump(model);
}

std::vector<std::string> Scheduler::TakeQueued() {
  std::vector<std::string> taken;
  absl::MutexLock lock(&mu_);
  for (auto& [model, q] : queues_) {
    // Admission order, so that callers see the tasks in the order they would have run.
    while (!q.rotation.empty()) {
      const std::string tenant = q.rotation.front();
      q.rotation.pop_front();
      for (std::string& id : q.by_tenant[tenant]) taken.push_back(std::move(id));
    }
    q.by_tenant.clear();
    q.queued = 0;
  }
  queued_.clear();
  created_.clear();
  positions_by_task_.clear();
  queued_by_tenant_.clear();
  queued_total_ = 0;
  for (auto it = quotas_.begin(); it != quotas_.end();) {
    auto next = std::next(it);
    if (!running_by_tenant_.contains(it->first)) quotas_.erase(it);
    it = next;
  }
  return taken;
}

int Scheduler::QueuedCount(const std::string& model) const {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(model);
  return it == queues_.end() ? 0 : it->second.queued;
}

int Scheduler::RunningCount(const std::string& model) const {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(model);
  return it == queues_.end() ? 0 : it->second.running;
}

int Scheduler::RunningCount(const std::string& model, const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(model);
  if (it == queues_.end()) return 0;
  auto held = it->second.running_by_tenant.find(tenant);
  return held == it->second.running_by_tenant.end() ? 0 : held->second;
}

int Scheduler::Position(const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  auto it = positions_by_task_.find(task_id);
  return it == positions_by_task_.end() ? 0 : it->second;
}

void Scheduler::Pump(const std::string& model) {
  std::vector<Admitted> admitted;
  std::vector<std::pair<std::string, int>> moved;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    admitted = PumpLocked(model, QueueFor(model), &moved);
  }
  Notify(model, std::move(admitted), std::move(moved));
}

std::vector<Scheduler::Admitted> Scheduler::PumpLocked(
    const std::string& model, ModelQueue& q, std::vector<std::pair<std::string, int>>* moved) {
  std::vector<Admitted> admitted;
  absl::Time now = clock_.Now();
  const ModelLimits& limits = q.limits;
  while (!paused_ && q.queued > 0 && HasRoom(q)) {
    // The submit rate, or a Throttle() (which applies even without a rate limit).
    if (q.next_submit > now) break;
    auto next = NextTenantLocked(q);
    const std::string tenant = *next;
    q.rotation.erase(next);
    std::deque<std::string>& line = q.by_tenant[tenant];
    std::string task_id = std::move(line.front());
    line.pop_front();
    if (line.empty()) {
      q.by_tenant.erase(tenant);
    } else {
      q.rotation.push_back(tenant);
    }
    --q.queued;
    --queued_total_;
    if (--queued_by_tenant_[tenant] == 0) queued_by_tenant_.erase(tenant);
    queued_.erase(task_id);
    created_.erase(task_id);
    positions_by_task_.erase(task_id);
    ++q.running;
    ++q.running_by_tenant[tenant];
    ++running_by_tenant_[tenant];
    if (limits.submits_per_second > 0) {
      q.next_submit = std::max(q.next_submit, now) + absl::Seconds(1 / limits.submits_per_second);
    }
    admitted.push_back({std::move(task_id), tenant});
  }
  // Blocked by the submit rate only: come back when the next submit is allowed.
  bool rate_blocked = q.queued > 0 && q.next_submit > now && HasRoom(q);
  if (rate_blocked && q.timer == 0) {
    q.timer = executor_.RunAt(q.next_submit, [this, model] {
      {
        absl::MutexLock lock(&mu_);
        if (stopped_) return;
        QueueFor(model).timer = 0;
      }
      Pump(model);
    });
  }
  if (!admitted.empty() || moved != nullptr) RecomputePositionsLocked(q, moved);
  return admitted;
}

std::deque<std::string>::iterator Scheduler::NextTenantLocked(ModelQueue& q) {
  if (q.rotation.size() < 2 || q.limits.max_running <= 0) return q.rotation.begin();
  // Tenants with work for this model: those holding slots, and those waiting without any.
  int active = static_cast<int>(q.running_by_tenant.size());
  for (const std::string& tenant : q.rotation) {
    if (!q.running_by_tenant.contains(tenant)) ++active;
  }
  const int fair_share = (q.limits.max_running + active - 1) / active;
  auto under_cap = std::find_if(q.rotation.begin(), q.rotation.end(), [&](const std::string& t) {
    const int own = QuotasOf(t).max_running;
    auto held = q.running_by_tenant.find(t);
    return (held == q.running_by_tenant.end() ? 0 : held->second) <
           (own > 0 ? own : fair_share);
  });
  // Every waiting tenant is at its cap: the slot would idle, so the next in turn takes it.
  return under_cap != q.rotation.end() ? under_cap : q.rotation.begin();
}

void Scheduler::RecomputePositionsLocked(ModelQueue& q,
                                         std::vector<std::pair<std::string, int>>* moved) {
  // Admission order: round r takes the r-th task of each tenant, in rotation order.
  int position = 0;
  size_t round = 0;
  bool any = true;
  while (any) {
    any = false;
    for (const std::string& tenant : q.rotation) {
      const std::deque<std::string>& line = q.by_tenant[tenant];
      if (round >= line.size()) continue;
      any = true;
      ++position;
      int& current = positions_by_task_[line[round]];
      if (current != position) {
        current = position;
        moved->emplace_back(line[round], position);
      }
    }
    ++round;
  }
}

void Scheduler::Notify(const std::string& model, std::vector<Admitted> admitted,
                       std::vector<std::pair<std::string, int>> moved) {
  for (const auto& [id, tenant] : admitted) admit_(id, model, tenant);
  if (!moved.empty()) positions_(moved);
}

}  // namespace qwenimage::tasks
