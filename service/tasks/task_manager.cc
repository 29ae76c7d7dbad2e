#include "service/tasks/task_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/ids.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/input_images.h"
#include "service/tasks/quota_error.h"
#include "service/tasks/task_errors.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {
namespace {

PollPlannerOptions PlannerOptions(const TaskManagerOptions& options) {
  PollPlannerOptions planner;
  planner.min_interval = options.min_poll_interval;
  planner.max_interval = options.max_poll_interval;
  planner.list_threshold = options.poll_list_threshold;
  return planner;
}

// The scheduler options with `ahead` tasks allowed to wait upstream for every async model.
SchedulerOptions WithQueueAhead(SchedulerOptions options, const dashscope::ModelCatalog& catalog,
                                int ahead) {
  if (ahead <= 0) return options;
  for (const dashscope::ModelInfo& m : catalog.models()) {
    if (m.mode != dashscope::UpstreamMode::kAsync) continue;
    auto [it, inserted] = options.model_limits.try_emplace(m.name, options.default_limits);
    it->second.queue_ahead = ahead;
  }
  return options;
}

SchedulerOptions WithTenantDefaults(SchedulerOptions options, const TenantQuotas& defaults) {
  options.tenant_defaults = defaults;
  return options;
}

// The images each task of `tenant` created at or after `since` asked for (RateQuotas' seed).
absl::StatusOr<std::vector<std::pair<absl::Time, int>>> CreatedSince(store::TaskStore& tasks,
                                                                     const std::string& tenant,
                                                                     absl::Time since) {
  std::vector<std::pair<absl::Time, int>> created;
  store::ListQuery query;
  query.tenant = tenant;
  query.created_at_or_after = since;
  query.limit = 500;
  for (;;) {
    absl::StatusOr<std::vector<store::TaskRecord>> page = tasks.List(query);
    if (!page.ok()) return page.status();
    for (const store::TaskRecord& r : *page) {
      created.emplace_back(FromProto(r.task.create_time()), std::max(1, r.task.spec().n()));
    }
    if (static_cast<int>(page->size()) < query.limit) return created;
    const v1::Task& last = page->back().task;
    query.after = store::ListCursor{FromProto(last.create_time()), last.id()};
  }
}

}  // namespace

TaskManager::TaskManager(TaskManagerOptions options, const dashscope::ModelCatalog& catalog,
                         store::TaskStore& tasks, store::ImageStore& images,
                         dashscope::Upstream& upstream, Executor& executor, const Clock& clock)
    : options_(std::move(options)),
      catalog_(catalog),
      tasks_(tasks),
      images_(images),
      upstream_(upstream),
      executor_(executor),
      clock_(clock),
      query_budget_(clock, options_.task_queries_per_second,
                    std::max(1, static_cast<int>(options_.task_queries_per_second))),
      planner_(PlannerOptions(options_), query_budget_, options_.task_queries_per_second, clock),
      scheduler_(
          WithTenantDefaults(WithQueueAhead(options_.scheduler, catalog, options_.queue_ahead),
                             options_.tenant_defaults),
          executor, clock,
          [this](const std::string& id, const std::string& model, const std::string& tenant) {
            if (ActivePtr a = Find(id)) {
              a->strand->Post([this, a] { OnAdmitted(a); });
            } else {
              // Cancelled and gone between its admission and this call: give the slot back.
              scheduler_.Release(model, tenant);
            }
          },
          [this](const std::vector<std::pair<std::string, int>>& moved) { OnPositions(moved); }),
      fetcher_(options_.download_backoff, upstream, images, executor, clock),
      resolver_(options_.resolver, upstream, query_budget_, executor, clock,
                [this](const std::string& upstream_id) {
                  // A candidate is ours to prove only if no task holds it; the resolver's own
                  // task holds none yet.
                  return HeldByAnother(upstream_id, /*task_id=*/"");
                }),
      rate_quotas_(clock,
                   [this](const std::string& tenant, absl::Time since) {
                     return CreatedSince(tasks_, tenant, since);
                   }),
      recent_(options_.recent_tasks) {}

TaskManager::~TaskManager() = default;

absl::Status TaskManager::Start() {
  if (absl::Status s = ValidateRetentionOptions(options_.retention); !s.ok()) return s;
  if (options_.replicas != nullptr) {
    remote_watches_ = std::make_unique<RemoteWatches>(
        tasks_, executor_, clock_, options_.remote_watch_refresh,
        [signer = options_.download_urls](v1::Task task) {
          return WithDownloadUrls(signer, std::move(task));
        });
    remote_watches_->Start();
    spdlog::info("task manager started as a standby: tasks run on the replica holding the lease");
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<store::TaskRecord>> unfinished = tasks_.ListUnfinished();
  if (!unfinished.ok()) return unfinished.status();
  RemoveOrphanedImages();
  const int resumed = Resume(*std::move(unfinished));
  spdlog::info("task manager started: {} unfinished tasks resumed", resumed);
  {
    absl::MutexLock lock(&mu_);
    leading_ = true;
  }
  StartRetention();
  return absl::OkStatus();
}

void TaskManager::StartRetention() {
  // Only terminal records are swept, and none the manager still holds (between a task's
  // terminal write and its publication).
  retention_ = std::make_unique<Retention>(
      options_.retention, tasks_, images_, executor_, clock_, observer(),
      [this](const std::string& task_id) { return Find(task_id) != nullptr; },
      [this](const std::string& task_id) { recent_.Erase(task_id); });
  retention_->Start();
}

bool TaskManager::Leading() const {
  absl::MutexLock lock(&mu_);
  return leading_;
}

void TaskManager::BeginDrain() {
  {
    absl::MutexLock lock(&mu_);
    if (draining_) return;
    draining_ = true;
  }
  // Nothing new goes upstream; replies to what is in flight are still handled and stored.
  scheduler_.Stop();
  if (retention_ != nullptr) retention_->Stop();
  StopPoller();
  resolver_.Stop();  // a restart resolves from the stored marker
}

bool TaskManager::AwaitDrained(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return billable_in_flight_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

void TaskManager::Shutdown() {
  BeginDrain();
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  // Pending replies see Stopping() and leave every record as it is.
  fetcher_.Stop();
  if (remote_watches_ != nullptr) remote_watches_->Stop();  // its timer is on the executor
}

bool TaskManager::Draining() const {
  absl::MutexLock lock(&mu_);
  return draining_;
}

bool TaskManager::TryStartBillable(const ActivePtr& a) {
  absl::MutexLock lock(&mu_);
  if (draining_) return false;
  if (!a->billable) {
    a->billable = true;
    ++billable_in_flight_;
  }
  return true;
}

void TaskManager::SetBillable(const ActivePtr& a, bool in_flight) {
  if (a->billable == in_flight) return;
  a->billable = in_flight;
  absl::MutexLock lock(&mu_);
  billable_in_flight_ += in_flight ? 1 : -1;
}

bool TaskManager::Stopping() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

TaskManager::ActivePtr TaskManager::Find(const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(task_id);
  return it == active_.end() ? nullptr : it->second;
}

TaskManager::ActivePtr TaskManager::Activate(store::TaskRecord record) {
  auto a = std::make_shared<Active>(executor_, record.tenant, record.task.id(),
                                    record.task.spec().model());
  a->published = record.task;
  a->record = std::move(record);
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = active_.try_emplace(a->id, a);
  return inserted ? a : nullptr;
}

absl::StatusOr<v1::Task> TaskManager::Create(const std::string& tenant,
                                             const TenantQuotas& quotas,
                                             const std::string& request_id,
                                             const dashscope::GenerationParams& params,
                                             std::vector<v1::InputImage> inputs) {
  const dashscope::ModelInfo* model = catalog_.Find(params.model);
  if (model == nullptr) return absl::InvalidArgumentError("unknown model");
  if (Draining()) return absl::UnavailableError("the gateway is shutting down; retry elsewhere");

  store::TaskRecord record;
  record.tenant = tenant;
  v1::Task& task = record.task;
  task.set_id(NewTaskId());
  task.set_state(v1::TASK_STATE_QUEUED);
  *task.mutable_spec() = ToSpec(params);
  task.set_request_id(request_id);
  task.set_region(options_.region);
  task.set_upstream_mode(ToProto(model->mode));
  absl::Time now = clock_.Now();
  ToProto(now, task.mutable_create_time());
  ToProto(now, task.mutable_update_time());

  // The rate quotas before anything is stored, so that a refusal costs no write. A retry of a
  // stored request is never refused by one: with a request id, a refusal first looks for it.
  absl::StatusOr<RateQuotas::Reservation> reserved =
      rate_quotas_.Reserve(tenant, quotas, std::max(1, task.spec().n()));
  const bool rate_refused = !reserved.ok() && GetQuotaExceeded(reserved.status()).has_value();
  if (!reserved.ok() && (!rate_refused || request_id.empty())) {
    if (rate_refused) RejectedByQuota(tenant, reserved.status());
    return reserved.status();
  }
  auto unreserve = [&] {
    if (reserved.ok()) rate_quotas_.Cancel(*reserved);
  };

  // An edit's inputs are stored before the row, so that no stored task ever lacks them (a
  // crash in between leaves files without a task, which the next start removes).
  const bool has_inputs = !inputs.empty();
  if (has_inputs) {
    absl::StatusOr<std::vector<v1::InputImage>> recorded =
        StoreInputImages(tasks_, images_, tenant, task.id(), std::move(inputs));
    if (!recorded.ok()) {
      unreserve();
      return recorded.status();
    }
    for (v1::InputImage& input : *recorded) *task.mutable_spec()->add_input_images() = std::move(input);
  }
  auto drop_inputs = [&] {
    if (has_inputs) images_.DeleteTask(task.id()).IgnoreError();
  };
  record.fingerprint = SpecFingerprint(task.spec());

  bool inserted = false;
  absl::StatusOr<store::TaskRecord> stored = tasks_.InsertOrGet(record, &inserted);
  if (!stored.ok()) {
    unreserve();
    drop_inputs();
    return stored.status();
  }
  if (!inserted) {
    unreserve();  // an idempotent repeat: it creates nothing, so it counts nothing
    drop_inputs();
    if (stored->fingerprint != record.fingerprint) {
      return absl::AlreadyExistsError(
          absl::StrCat("request_id \"", request_id, "\" was already used for task ",
                       stored->task.id(), " with different parameters"));
    }
    return Get(tenant, stored->task.id());
  }

  if (!reserved.ok()) {
    // A new task after all, over a rate quota: leave no trace.
    tasks_.Delete(task.id()).IgnoreError();
    drop_inputs();
    RejectedByQuota(tenant, reserved.status());
    return reserved.status();
  }

  if (!Leading()) {
    // A standby stores the task; the lease holder claims and runs it (woken by the change
    // feed). Its place in line is the holder's to tell.
    observer().OnTaskCreated(task);
    return WithDownloadUrls(options_.download_urls, task);
  }
  ActivePtr a = Activate(record);
  if (a == nullptr) {
    // A claim sweep took it on between the insert and here (replicas): it is queued already.
    observer().OnTaskCreated(task);
    return Get(tenant, task.id());
  }
  absl::StatusOr<int> position =
      scheduler_.Enqueue(params.model, tenant, task.id(), /*front=*/false, now, &quotas);
  if (!position.ok()) {
    // Not admitted: leave no trace, so that a retry with the same request_id is a new try.
    {
      absl::MutexLock lock(&mu_);
      active_.erase(a->id);
    }
    tasks_.Delete(task.id()).IgnoreError();
    drop_inputs();
    unreserve();
    RejectedByQuota(tenant, position.status());
    return position.status();
  }
  observer().OnTaskCreated(task);
  absl::MutexLock lock(&mu_);
  v1::Task snapshot = a->published;
  if (snapshot.state() == v1::TASK_STATE_QUEUED && snapshot.queue_position() == 0) {
    snapshot.set_queue_position(*position);
  }
  return snapshot;
}

void TaskManager::Commit(const ActivePtr& a, store::Durability durability,
                         absl::AnyInvocable<void()> then) {
  CommitAttempt(a, durability, std::move(then), 1);
}

void TaskManager::CommitAttempt(const ActivePtr& a, store::Durability durability,
                                absl::AnyInvocable<void()> then, int attempt) {
  v1::Task& task = a->record.task;
  ToProto(clock_.Now(), task.mutable_update_time());
  absl::Status s = tasks_.Update(a->record, durability);
  if (store::IsFenced(s)) {
    OnFenced(a, s);
    return;
  }
  if (absl::IsAlreadyExists(s) && !task.upstream_task_id().empty()) {
    // Another task holds this upstream id: it was never ours to hold.
    const std::string taken = task.upstream_task_id();
    spdlog::error("task {}: tenant={} upstream task {} is already held by another task", a->id,
                  a->tenant, taken);
    task.clear_upstream_task_id();
    if (IsTerminal(task.state())) {  // it ended meanwhile: store that, without the claim
      CommitAttempt(a, durability, std::move(then), attempt);
      return;
    }
    ReleaseSlot(a);
    Finish(a, v1::TASK_STATE_FAILED,
           SubmitOutcomeUnknown("the upstream task found for it is held by another task", {taken}));
    return;
  }
  if (absl::IsNotFound(s)) {
    // Deleted by its owner (only a finished task can be): nothing is left to write.
    spdlog::info("task {}: tenant={} was deleted; its last state was not stored", a->id,
                 a->tenant);
    return;
  }
  if (!s.ok()) {
    if (Stopping()) return;  // the stored state stands; the next start decides from it
    // Hold the task: nothing that depends on this state (a billed call, the end) happens
    // before it is stored.
    observer().OnStoreWriteFailed();
    absl::Duration delay = options_.store_retry.initial;
    for (int i = 1; i < attempt && delay < options_.store_retry.max; ++i) delay *= 2;
    delay = std::min(delay, options_.store_retry.max);
    spdlog::error("task {}: tenant={} storing state {} failed (attempt {}; retrying in {}): {}",
                  a->id, a->tenant, v1::TaskState_Name(task.state()), attempt,
                  absl::FormatDuration(delay), s.ToString());
    executor_.RunAt(clock_.Now() + delay,
                    [this, a, durability, then = std::move(then), attempt]() mutable {
                      a->strand->Post([this, a, durability, then = std::move(then),
                                       attempt]() mutable {
                        CommitAttempt(a, durability, std::move(then), attempt + 1);
                      });
                    });
    return;
  }
  Publish(a, task, IsTerminal(task.state()));
  if (then) then();
}

void TaskManager::Publish(const ActivePtr& a, v1::Task task, bool terminal) {
  std::vector<std::shared_ptr<TaskWatcher>> targets;
  if (terminal) recent_.PutLatest(a->tenant, task);  // before it leaves active_: no read misses
  {
    absl::MutexLock lock(&mu_);
    a->published = task;
    targets.reserve(a->watchers.size());
    for (auto& [token, w] : a->watchers) targets.push_back(w);
    if (terminal) {
      a->terminal_published = true;
      a->watchers.clear();
      active_.erase(a->id);
    }
  }
  for (const auto& w : targets) w->OnTaskUpdate(task);
}

void TaskManager::Finish(const ActivePtr& a, v1::TaskState state,
                         std::optional<v1::TaskError> error) {
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state())) return;
  planner_.Untrack(a->id);
  task.set_state(state);
  task.set_queue_position(0);
  ToProto(clock_.Now(), task.mutable_end_time());
  if (error.has_value()) *task.mutable_error() = *std::move(error);
  if (state == v1::TASK_STATE_FAILED) {
    // A rejected key or account is the operator's problem: say so loudly.
    const v1::TaskError& e = task.error();
    const bool operator_problem = e.http_status() == 401 || e.http_status() == 403;
    spdlog::log(operator_problem ? spdlog::level::err : spdlog::level::warn,
                "task {}: tenant={} upstream_request_id={} failed: code={} {}", a->id, a->tenant,
                e.upstream_request_id(), e.code(), e.message());
  }
  observer().OnTaskFinished(task);  // before Commit: a watcher seeing the end sees it counted
  Commit(a, store::Durability::kSynced, [this, a] {
    const v1::Task& task = a->record.task;
    // A task that did not succeed leaves no files (a partial download, a cancelled one).
    if (task.state() != v1::TASK_STATE_SUCCEEDED) {
      if (absl::Status s = images_.DeleteTask(a->id); !s.ok()) {
        spdlog::warn("task {}: removing its images failed (the next start retries): {}", a->id,
                     s.ToString());
      }
    }
    SetBillable(a, a->call_in_flight);  // a cancelled call's reply is still owed to the drain
  });
}

void TaskManager::ReleaseSlot(const ActivePtr& a) {
  planner_.Untrack(a->id);  // upstream is done with it (or it is given up)
  if (!a->holds_slot) return;
  a->holds_slot = false;
  scheduler_.Release(a->model, a->tenant);
}

void TaskManager::OnPositions(const std::vector<std::pair<std::string, int>>& moved) {
  for (const auto& [id, position] : moved) {
    ActivePtr a = Find(id);
    if (a == nullptr) continue;
    a->strand->Post([this, a, position = position] {
      v1::Task& task = a->record.task;
      if (task.state() != v1::TASK_STATE_QUEUED || task.queue_position() == position) return;
      // Positions are derived, not persisted: a restart recomputes them.
      task.set_queue_position(position);
      Publish(a, task, /*terminal=*/false);
    });
  }
}

void TaskManager::RejectedByQuota(const std::string& tenant, const absl::Status& status) {
  if (std::optional<QuotaExceeded> e = GetQuotaExceeded(status); e.has_value()) {
    observer().OnQuotaRejected(tenant, e->quota);
  }
}

TaskObserver& TaskManager::observer() const {
  static TaskObserver* const kNone = new TaskObserver();
  return options_.observer != nullptr ? *options_.observer : *kNone;
}

void TaskManager::RecordDuration(const std::string& model, absl::Duration d) {
  observer().OnUpstreamRun(model, d);
  planner_.RecordDuration(model, d);
}

}  // namespace qwenimage::tasks
