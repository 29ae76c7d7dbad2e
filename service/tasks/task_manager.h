// TaskManager: the coordinator of the task lifecycle — idempotent creation, admission, the
// upstream flow (sync call or create + poll), cancellation, durable transitions and fan-out. It
// delegates admission (Scheduler), poll planning (PollPlanner), unknown-create resolution
// (CreateResolver) and image download (ImageFetcher), each tested alone.
//
// Strand rules: everything that reads or changes one task's record runs on that task's strand
// (Active::strand); upstream replies are posted there, never handled on the I/O thread. No lock
// is held while calling out (upstream, store, watchers, scheduler callbacks).
//
// Billing rules (dashscope-api.md §6): a billed call (async create, sync generation) leaves only
// after the record that makes a restart safe is durably stored (a failed write holds the task and
// retries it); it is re-sent only when DashScope's own JSON error said it did no work; an unknown
// outcome is resolved with proof (CreateResolver) or fails as SubmitOutcomeUnknown, never
// retryable.
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "qwenimage/v1/task.pb.h"
#include "service/common/backoff.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/common/rate_limiter.h"
#include "service/dashscope/catalog.h"
#include "service/dashscope/upstream.h"
#include "service/store/download_url.h"
#include "service/store/image_store.h"
#include "service/store/replica_store.h"
#include "service/store/task_store.h"
#include "service/tasks/create_resolver.h"
#include "service/tasks/image_fetcher.h"
#include "service/tasks/poll_planner.h"
#include "service/tasks/rate_quotas.h"
#include "service/tasks/recent_tasks.h"
#include "service/tasks/remote_watches.h"
#include "service/tasks/retention.h"
#include "service/tasks/scheduler.h"
#include "service/tasks/task_listing.h"
#include "service/tasks/task_observer.h"
#include "service/tasks/task_watcher.h"
#include "service/tasks/tenant_quotas.h"

namespace qwenimage::tasks {

struct TaskManagerOptions {
  std::string region = "singapore";
  SchedulerOptions scheduler;  // its tenant_defaults are replaced by the ones below
  // The quotas of a tenant whose caller brought none (tasks resumed at start, callers before
  // authentication resolves quotas): the --max_queued_per_tenant and --tenant_* flags.
  TenantQuotas tenant_defaults = {/*max_queued=*/1000, /*max_running=*/0, 0, 0};
  // Async models: tasks submitted beyond their running limit to wait upstream (see
  // ModelLimits::queue_ahead). Dropped for a model whose upstream answers Throttling.Concurrency.
  int queue_ahead = 1;
  // Task-API calls (GET task, list, cancel) per second for the whole account.
  double task_queries_per_second = 20;
  // Poll interval bounds; between them the schedule follows recent durations per model.
  absl::Duration min_poll_interval = absl::Milliseconds(100);
  absl::Duration max_poll_interval = absl::Seconds(5);
  // With this many tasks of one model upstream, list them instead of polling each.
  int poll_list_threshold = 8;
  BackoffPolicy submit_backoff;    // 5xx / throttling at submit
  BackoffPolicy download_backoff;  // image download
  // Retry-After is a hint: waits it asks for are capped at this, so one bad header cannot stall
  // submissions, polls or cancels.
  absl::Duration max_retry_after = absl::Seconds(60);
  // A failed store write is retried this often (capped exponential), holding the task.
  BackoffPolicy store_retry{absl::Milliseconds(100), absl::Seconds(5), 0};
  // While upstream refuses the key or account: how often a free call checks whether it works
  // again, and how long queued tasks wait before they fail (KeyOutage).
  absl::Duration key_probe_interval = absl::Seconds(2);
  absl::Duration key_outage_timeout = absl::Minutes(15);
  CreateResolverOptions resolver;
  // --task_ttl, --image_ttl: finished tasks and their images are deleted after them (retention.h).
  RetentionOptions retention;
  // Lifecycle hooks for metrics; nullptr = none. Must outlive the manager.
  TaskObserver* observer = nullptr;
  // Signs Image.download_url on the tasks Get, List and OpenImage return (S3 presigned GETs);
  // nullptr = none (clients read bytes through ReadImage). Must outlive the manager.
  const store::DownloadUrlSigner* download_urls = nullptr;
  // Finished tasks kept in memory for GetTask and WatchTask (recent_tasks.h); 0 = none.
  int recent_tasks = 10000;
  // Several replicas on one database (replica_role.h); nullptr = a single node, which runs every
  // task itself from Start on. With replicas the manager starts as a standby: it stores new
  // tasks for the lease holder and serves reads and watches from the store, until ReplicaRole
  // makes it the leader (Lead, then Adopt). Must outlive the manager.
  store::ReplicaStore* replicas = nullptr;
  // Watches of tasks another replica runs re-read the store this often besides each change
  // notification (a missed one costs at most this much latency).
  absl::Duration remote_watch_refresh = absl::Seconds(2);
  // How long CancelTask of a task another replica runs waits for that replica to carry it out
  // before answering UNAVAILABLE (the request stays recorded and is carried out later).
  absl::Duration remote_cancel_wait = absl::Seconds(10);
  // Called once when a write was refused because a newer lease epoch owns the task: this
  // process lost the lease and must stop running tasks (the gateway exits; see gateway.cc).
  std::function<void(const absl::Status&)> on_fenced;
};

// One stored image opened for reading, with its metadata (ReadImage streams it in chunks).
struct ImageStream {
  v1::Image metadata;
  std::unique_ptr<store::ImageReader> reader;
};

class TaskManager {
 public:
  using TaskCallback = absl::AnyInvocable<void(absl::StatusOr<v1::Task>)>;

  TaskManager(TaskManagerOptions options, const dashscope::ModelCatalog& catalog,
              store::TaskStore& tasks, store::ImageStore& images, dashscope::Upstream& upstream,
              Executor& executor, const Clock& clock);
  ~TaskManager();

  // A single node: resumes every unfinished task found in the store (Resume), removes image
  // files that a crash left without a task and starts retention. With replicas: starts as a
  // standby (see TaskManagerOptions::replicas).
  absl::Status Start();
  // Replicas (ReplicaRole's calls). This replica now holds the account lease: from here on it
  // admits and polls, runs the tasks it creates and the ones Adopt hands it; removes orphaned
  // image files and starts retention. `lease_held` says whether this replica's own view of the
  // lease still runs: asked just before each billed call leaves (a replica paused past its lease
  // between the marker write and the send must not send).
  void Lead(std::function<bool()> lease_held);
  // Runs claimed tasks as a restart resumes them, skipping the ones it runs already. A task
  // with a cancel request is cancelled. After Lead only.
  void Adopt(std::vector<store::TaskRecord> records);
  // Carries out the cancel requests of callers on other replicas for tasks this one runs.
  void CarryOutCancels(const std::vector<std::string>& task_ids);
  // The stored row of `task_id` changed ("": any may have): wakes watches of tasks another
  // replica runs.
  void OnStoredChange(const std::string& task_id);
  bool Leading() const;
  // Whether this manager runs `task_id` now (it is active here).
  bool Runs(const std::string& task_id) const { return Find(task_id) != nullptr; }
  // Drain: admits and polls nothing more; billed work in flight (creates, sync calls, image
  // downloads) goes on and is stored. Idempotent.
  void BeginDrain();
  // Waits until no billed work is in flight, or `deadline`; returns whether it all finished.
  bool AwaitDrained(absl::Time deadline);
  // Stops everything; in-flight state stays in the store for the next start.
  void Shutdown();
  // Asks upstream at once whether a refused key works again (after the key file changed).
  void ProbeCredentials();

  // Creates a task from a validated spec (defaults filled in). With a request id already used
  // by the tenant: the existing task if the spec matches, ALREADY_EXISTS otherwise — neither
  // counted against nor refused by a quota. A new task over one of the tenant's `quotas`
  // (max_queued, creates_per_minute, images_per_day) is RESOURCE_EXHAUSTED with a QuotaExceeded
  // payload (quota_error.h) and leaves no trace; max_running only delays admission (scheduler.h).
  // `inputs` are an edit's input images as api::TakeInputImages checked them; they are stored
  // with the task (input_images.h) and recorded in its spec.
  absl::StatusOr<v1::Task> Create(const std::string& tenant, const TenantQuotas& quotas,
                                  const std::string& request_id,
                                  const dashscope::GenerationParams& params,
                                  std::vector<v1::InputImage> inputs = {});
  absl::StatusOr<v1::Task> Get(const std::string& tenant, const std::string& task_id);
  // Get without blocking: the answer if it is in memory (a task this replica runs, or one that
  // finished recently), nullopt if only the store has it. Safe on a gRPC reaction thread.
  std::optional<absl::StatusOr<v1::Task>> GetFromMemory(const std::string& tenant,
                                                        const std::string& task_id);
  // One page of the tenant's tasks, newest first; INVALID_ARGUMENT (a FieldError) for a bad
  // page token.
  absl::StatusOr<ListPage> List(const ListRequest& request);
  // Cancels (see the proto); `done` gets the task after the cancel took effect.
  void Cancel(const std::string& tenant, const std::string& task_id, TaskCallback done);
  // Deletes a terminal task and its images.
  absl::Status Delete(const std::string& tenant, const std::string& task_id);
  // Registers `watcher` (snapshot first, then every change). Returns a token for Unwatch.
  absl::StatusOr<uint64_t> Watch(const std::string& tenant, const std::string& task_id,
                                 std::shared_ptr<TaskWatcher> watcher);
  void Unwatch(const std::string& task_id, uint64_t token);
  // Checks that the tenant's task succeeded and has image `index` (by Image.index), and opens
  // it. Blocking (the store and the disk): call it from the executor, never a gRPC reaction.
  absl::StatusOr<ImageStream> OpenImage(const std::string& tenant, const std::string& task_id,
                                        int index);

  int QueuedCount(const std::string& model) const { return scheduler_.QueuedCount(model); }
  int RunningCount(const std::string& model) const { return scheduler_.RunningCount(model); }
  // Slots of `model` held by `tenant`'s tasks.
  int RunningCount(const std::string& model, const std::string& tenant) const {
    return scheduler_.RunningCount(model, tenant);
  }
  const TenantQuotas& default_quotas() const { return options_.tenant_defaults; }
  // Whether upstream currently refuses the key or account (submissions and polls paused).
  bool CredentialsRefused() const;

 private:
  struct Active;
  using ActivePtr = std::shared_ptr<Active>;

  // At start: removes image files of tasks that were deleted or did not succeed.
  void RemoveOrphanedImages();
  // Runs stored unfinished tasks, in each tenant's order: async tasks keep polling their
  // upstream id (never re-submitted), creates whose reply never came are resolved
  // (CreateResolver), a sync call cut short ends FAILED "Interrupted" (never re-sent). Returns
  // how many it took on (tasks already active are skipped).
  int Resume(std::vector<store::TaskRecord> records);
  void StartRetention();
  // A write was refused: a newer lease epoch owns the task. Drops it here (nothing more is
  // sent or stored for it) and tells on_fenced.
  void OnFenced(const ActivePtr& a, const absl::Status& status);
  // CancelTask of a task this replica does not run: recorded for its owner, answered once the
  // stored task ends or after remote_cancel_wait.
  void CancelRemotely(const std::string& tenant, const std::string& task_id, TaskCallback done);
  bool Stopping() const;   // Shutdown: every reply is ignored, records stay as they are
  bool Draining() const;   // BeginDrain or Shutdown: nothing new is admitted or polled
  ActivePtr Find(const std::string& task_id) const;
  // Makes `record` active; nullptr if a task with its id is active already.
  ActivePtr Activate(store::TaskRecord record);
  // Persists `a->record` (durably unless kRelaxed), then publishes it; a failed write is retried
  // with back-off, holding the task, and `then` runs only once the write succeeded. Strand only.
  void Commit(const ActivePtr& a, store::Durability durability,
              absl::AnyInvocable<void()> then = nullptr);
  void CommitAttempt(const ActivePtr& a, store::Durability durability,
                     absl::AnyInvocable<void()> then, int attempt);
  void Finish(const ActivePtr& a, v1::TaskState state, std::optional<v1::TaskError> error);
  void ReleaseSlot(const ActivePtr& a);
  void Publish(const ActivePtr& a, v1::Task task, bool terminal);
  // Billed work in flight (a create or sync call sent, or images downloading): drain waits.
  void SetBillable(const ActivePtr& a, bool in_flight);
  // Counts a billed call about to be sent, atomically with the drain's start: false (and
  // nothing counted) once a drain has begun.
  bool TryStartBillable(const ActivePtr& a);

  // The upstream flow, all on the task's strand (task_flow.cc).
  void OnAdmitted(const ActivePtr& a);
  void RequeueAfter(const ActivePtr& a, absl::Duration delay);
  void DoPoll(const ActivePtr& a);
  void SubmitAsync(const ActivePtr& a);
  // Stores the "sent" marker durably, then runs `send` (the billed call) — unless the task was
  // cancelled or a drain began meanwhile, when nothing is sent.
  void SendOnceStored(const ActivePtr& a, absl::AnyInvocable<void()> send);
  void OnCreated(const ActivePtr& a, absl::StatusOr<dashscope::CreatedTask> created);
  void SubmitSync(const ActivePtr& a);
  // An edit's stored inputs could not be read before its send: a lost one fails the task
  // (InputImageLost), a failing store puts it back at the head of its line after a back-off.
  void OnInputImagesUnavailable(const ActivePtr& a, const absl::Status& status);
  void OnSyncResult(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> result);
  void SchedulePoll(const ActivePtr& a);
  void OnSubmitFailed(const ActivePtr& a, const absl::Status& status);
  void OnPolled(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> polled);
  void StartDownloads(const ActivePtr& a, dashscope::UpstreamTask result);
  void OnImagesFetched(const ActivePtr& a, ImageFetcher::Outcome outcome);
  void CancelOnStrand(const ActivePtr& a, TaskCallback done);
  // Retry-After as a capped hint, for back-off.
  std::optional<absl::Duration> CappedRetryAfter(const absl::Status& status) const;
  // The poller (poller.cc): spends the query budget on the calls the planner picks.
  void WakePoller();
  // Drops the poller's wake-up timer (it refers to this manager). After Draining() only.
  void StopPoller();
  void SendPollCall(PollCall call);
  void OnListed(const std::string& model, absl::StatusOr<dashscope::TaskListPage> page);
  // A create whose outcome is unknown (unknown_create.cc): resolved by the CreateResolver.
  void ResolveUnknownCreate(const ActivePtr& a, absl::Time failed, const std::string& cause);
  void OnResolved(const ActivePtr& a, const std::string& cause, CreateResolver::Result result);
  // Another task with the same request, sent in the same window, that has no upstream id (still
  // active, or failed unresolved), so that a proof for `a` would fit it as well; "" if none.
  std::string UnresolvedTwin(const ActivePtr& a);
  void RememberUnresolved(const ActivePtr& a);
  // Whether another task than `task_id` holds `upstream_id` (the store's claims).
  bool HeldByAnother(const std::string& upstream_id, const std::string& task_id);
  // Upstream refused the key or account (credentials.cc): pause submissions and polls, probe
  // with a free call until it works again, fail queued tasks after key_outage_timeout.
  void OnCredentialsRefused(const absl::Status& status);
  void ScheduleCredentialsProbe(absl::Time when);
  void OnCredentialsProbed(uint64_t outage, absl::Status status);
  void ResumeAfterOutage(uint64_t outage);
  void OnOutageTimeout(uint64_t outage);
  void RecordDuration(const std::string& model, absl::Duration d);
  void OnPositions(const std::vector<std::pair<std::string, int>>& moved);
  // Runs `fn` on the task's strand once the upstream reply arrives (never on the I/O thread).
  template <typename T>
  dashscope::UpstreamCallback<T> OnStrand(const ActivePtr& a,
                                          void (TaskManager::*method)(const ActivePtr&,
                                                                      absl::StatusOr<T>));

  TaskObserver& observer() const;
  // Tells the observer of a create `status` refused for a tenant quota (nothing otherwise).
  void RejectedByQuota(const std::string& tenant, const absl::Status& status);

  const TaskManagerOptions options_;
  const dashscope::ModelCatalog& catalog_;
  store::TaskStore& tasks_;
  store::ImageStore& images_;
  dashscope::Upstream& upstream_;
  Executor& executor_;
  const Clock& clock_;
  RateLimiter query_budget_;
  PollPlanner planner_;
  Scheduler scheduler_;

  ImageFetcher fetcher_;
  CreateResolver resolver_;
  RateQuotas rate_quotas_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ActivePtr> active_ ABSL_GUARDED_BY(mu_);
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  bool fenced_ ABSL_GUARDED_BY(mu_) = false;
  std::function<bool()> lease_held_ ABSL_GUARDED_BY(mu_);  // replicas, once leading
  // Requests whose create outcome stayed unknown (newest last): a later proof that fits one of
  // them as well proves nothing. Kept for as long as a resolution may run.
  struct Unresolved {
    std::string task_id;
    v1::GenerationSpec spec;
    absl::Time sent;
  };
  std::deque<Unresolved> unresolved_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int billable_in_flight_ ABSL_GUARDED_BY(mu_) = 0;

  // The poller's one pending wake-up (an earlier one replaces a later one).
  absl::Mutex poll_mu_;
  absl::Time poll_wake_at_ ABSL_GUARDED_BY(poll_mu_) = absl::InfiniteFuture();
  Executor::TimerId poll_wake_timer_ ABSL_GUARDED_BY(poll_mu_) = 0;
  uint64_t poll_wake_generation_ ABSL_GUARDED_BY(poll_mu_) = 0;  // tells a replaced timer

  // Credentials outages: 0 = none; otherwise the number of the current one, so that probes and
  // timeouts of an outage that already ended do nothing.
  mutable absl::Mutex key_mu_;
  uint64_t outage_ ABSL_GUARDED_BY(key_mu_) = 0;
  uint64_t outages_ ABSL_GUARDED_BY(key_mu_) = 0;
  bool probe_scheduled_ ABSL_GUARDED_BY(key_mu_) = false;

  RecentTasks recent_;
  // Watches of tasks this replica does not run (replicas only).
  std::unique_ptr<RemoteWatches> remote_watches_;
  // Made by Start; last, so that it stops (and its sweep ends) before anything above goes.
  std::unique_ptr<Retention> retention_;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_
