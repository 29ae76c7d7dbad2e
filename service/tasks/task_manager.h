// TaskManager: owns the task lifecycle — idempotent creation, admission, the upstream flow (sync
// call or create + poll), image download, cancellation, durable transitions and fan-out.
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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
#include "service/store/image_store.h"
#include "service/store/task_store.h"
#include "service/tasks/poll_planner.h"
#include "service/tasks/scheduler.h"
#include "service/tasks/task_observer.h"
#include "service/tasks/task_watcher.h"

namespace qwenimage::tasks {

struct TaskManagerOptions {
  std::string region = "singapore";
  SchedulerOptions scheduler;
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
  // Lifecycle hooks for metrics; nullptr = none. Must outlive the manager.
  TaskObserver* observer = nullptr;
};

struct ListResult {
  std::vector<v1::Task> tasks;
  std::optional<store::ListCursor> next;  // set when more may follow
};

class TaskManager {
 public:
  using TaskCallback = absl::AnyInvocable<void(absl::StatusOr<v1::Task>)>;

  TaskManager(TaskManagerOptions options, const dashscope::ModelCatalog& catalog,
              store::TaskStore& tasks, store::ImageStore& images, dashscope::Upstream& upstream,
              Executor& executor, const Clock& clock);
  ~TaskManager();

  // Resumes every unfinished task found in the store: async tasks keep polling their upstream
  // id (never re-submitted); a sync call cut short by the restart ends FAILED ("Interrupted").
  absl::Status Start();
  // Stops admitting and creating; in-flight state stays in the store for the next start.
  void Shutdown();

  // Creates a task from a validated spec (defaults filled in). With a request id already used
  // by the tenant: the existing task if the spec matches, ALREADY_EXISTS otherwise.
  absl::StatusOr<v1::Task> Create(const std::string& tenant, const std::string& request_id,
                                  const dashscope::GenerationParams& params);
  absl::StatusOr<v1::Task> Get(const std::string& tenant, const std::string& task_id);
  absl::StatusOr<ListResult> List(const store::ListQuery& query);
  // Cancels (see the proto); `done` gets the task after the cancel took effect.
  void Cancel(const std::string& tenant, const std::string& task_id, TaskCallback done);
  // Deletes a terminal task and its images.
  absl::Status Delete(const std::string& tenant, const std::string& task_id);
  // Registers `watcher` (snapshot first, then every change). Returns a token for Unwatch.
  absl::StatusOr<uint64_t> Watch(const std::string& tenant, const std::string& task_id,
                                 std::shared_ptr<TaskWatcher> watcher);
  void Unwatch(const std::string& task_id, uint64_t token);
  // The stored bytes of one image, with its metadata.
  absl::StatusOr<std::string> ReadImage(const std::string& tenant, const std::string& task_id,
                                        int index, v1::Image* metadata);

  int QueuedCount(const std::string& model) const { return scheduler_.QueuedCount(model); }
  int RunningCount(const std::string& model) const { return scheduler_.RunningCount(model); }

 private:
  struct Active;
  using ActivePtr = std::shared_ptr<Active>;

  bool Stopping() const;
  ActivePtr Find(const std::string& task_id) const;
  ActivePtr Activate(store::TaskRecord record);
  // Persists `a->record` and publishes it to the watchers. Runs on the task's strand.
  void Commit(const ActivePtr& a);
  void Finish(const ActivePtr& a, v1::TaskState state, std::optional<v1::TaskError> error);
  void ReleaseSlot(const ActivePtr& a);
  void Publish(const ActivePtr& a, v1::Task task, bool terminal);

  // The upstream flow, all on the task's strand (task_flow.cc).
  void OnAdmitted(const ActivePtr& a);
  void RequeueAfter(const ActivePtr& a, absl::Duration delay);
  void DoPoll(const ActivePtr& a);
  void SubmitAsync(const ActivePtr& a);
  void OnCreated(const ActivePtr& a, absl::StatusOr<dashscope::CreatedTask> created);
  void SubmitSync(const ActivePtr& a);
  void OnSyncResult(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> result);
  void SchedulePoll(const ActivePtr& a);
  // The poller (poller.cc): spends the query budget on the calls the planner picks.
  void WakePoller();
  // Drops the poller's wake-up timer (it refers to this manager). After Stopping() only.
  void StopPoller();
  void SendPollCall(PollCall call);
  void OnListed(const std::string& model, absl::StatusOr<dashscope::TaskListPage> page);
  // A create whose reply was lost (unknown_create.cc): looked up in the batch list, not re-sent.
  void ResolveUnknownCreate(const ActivePtr& a, const absl::Status& cause, int lookup);
  void OnUnknownCreateListed(const ActivePtr& a, const absl::Status& cause, int lookup,
                             absl::StatusOr<dashscope::TaskListPage> page);
  void FailUnknownOutcome(const ActivePtr& a, const absl::Status& cause);
  // At start: async creates whose reply the last process never saw, each holding a slot. The
  // upstream ids of tasks stored since are claimed first, so that none is taken for theirs.
  absl::Status ResumeUnknownCreates(const std::vector<ActivePtr>& lost);
  // Records an upstream id as ours; false if it already was.
  bool ClaimUpstreamId(const std::string& upstream_id);
  bool IsClaimed(const std::string& upstream_id) const;
  void OnPolled(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> polled);
  void OnSubmitFailed(const ActivePtr& a, const absl::Status& status);
  void StartDownloads(const ActivePtr& a, dashscope::UpstreamTask result);
  void DownloadOne(const ActivePtr& a, size_t i, int attempt);
  void OnDownloaded(const ActivePtr& a, size_t i, int attempt, absl::StatusOr<std::string> bytes);
  void CancelOnStrand(const ActivePtr& a, TaskCallback done);
  void RecordDuration(const std::string& model, absl::Duration d);
  void OnPositions(const std::vector<std::pair<std::string, int>>& moved);
  // Runs `fn` on the task's strand once the upstream reply arrives (never on the I/O thread).
  template <typename T>
  dashscope::UpstreamCallback<T> OnStrand(const ActivePtr& a,
                                          void (TaskManager::*method)(const ActivePtr&,
                                                                      absl::StatusOr<T>));

  TaskObserver& observer() const;

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

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ActivePtr> active_ ABSL_GUARDED_BY(mu_);
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;

  // The poller's one pending wake-up (an earlier one replaces a later one).
  absl::Mutex poll_mu_;
  absl::Time poll_wake_at_ ABSL_GUARDED_BY(poll_mu_) = absl::InfiniteFuture();
  Executor::TimerId poll_wake_timer_ ABSL_GUARDED_BY(poll_mu_) = 0;
  uint64_t poll_wake_generation_ ABSL_GUARDED_BY(poll_mu_) = 0;  // tells a replaced timer

  // Upstream ids recently obtained from create replies, oldest first.
  mutable absl::Mutex claims_mu_;
  absl::flat_hash_set<std::string> claimed_ ABSL_GUARDED_BY(claims_mu_);
  std::deque<std::pair<absl::Time, std::string>> claim_order_ ABSL_GUARDED_BY(claims_mu_);
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_MANAGER_H_
