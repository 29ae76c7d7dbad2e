// TaskManager with several replicas: becoming the lease holder, taking on claimed tasks, cancel
// requests from other replicas' callers, and a write refused by the fence.
#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {
namespace {

// Answers a remote CancelTask once: with the stored task when it ends, or with UNAVAILABLE
// when the wait runs out.
class CancelWaiter : public TaskWatcher {
 public:
  explicit CancelWaiter(TaskManager::TaskCallback done) : done_(std::move(done)) {}

  void OnTaskUpdate(const v1::Task& task) override {
    if (IsTerminal(task.state())) Answer(task);
  }
  void Answer(absl::StatusOr<v1::Task> result) {
    TaskManager::TaskCallback done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(done_);
      done_ = nullptr;
    }
    if (done) done(std::move(result));
  }

 private:
  absl::Mutex mu_;
  TaskManager::TaskCallback done_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void TaskManager::Lead(std::function<bool()> lease_held) {
  {
    absl::MutexLock lock(&mu_);
    if (leading_) return;
    leading_ = true;
    lease_held_ = std::move(lease_held);
  }
  RemoveOrphanedImages();
  StartRetention();
}

void TaskManager::Adopt(std::vector<store::TaskRecord> records) {
  if (records.empty() || Draining()) return;
  const int taken = Resume(std::move(records));
  if (taken > 0) spdlog::info("took on {} claimed tasks", taken);
}

void TaskManager::CarryOutCancels(const std::vector<std::string>& task_ids) {
  for (const std::string& id : task_ids) {
    ActivePtr a = Find(id);
    if (a == nullptr) continue;  // not ours (yet): the claim carries the request along
    // Every sweep lists the request until the task ends, and an upstream cancel may be in
    // flight meanwhile: the request is taken on once (a claim with it was cancelled by Resume).
    // The store never writes record.cancel_requested, so marking it here is local.
    a->strand->Post([this, a] {
      if (a->record.cancel_requested) return;
      a->record.cancel_requested = true;
      spdlog::info("task {}: tenant={} cancel requested through another replica", a->id, a->tenant);
      CancelOnStrand(a, [](absl::StatusOr<v1::Task>) {});
    });
  }
}

void TaskManager::OnStoredChange(const std::string& task_id) {
  // Another replica may have expired or deleted a finished task: forget it (a change of its own
  // costs one store read).
  if (task_id.empty()) {
    recent_.Clear();
  } else {
    recent_.Erase(task_id);
  }
  if (remote_watches_ != nullptr) remote_watches_->OnChanged(task_id);
}

void TaskManager::OnFenced(const ActivePtr& a, const absl::Status& status) {
  planner_.Untrack(a->id);
  bool first;
  {
    absl::MutexLock lock(&mu_);
    active_.erase(a->id);  // reads go to the store, which has the owner's truth
    first = !fenced_;
    fenced_ = true;
  }
  spdlog::error("task {}: tenant={} another replica owns it now; this replica stops: {}", a->id,
                a->tenant, status.ToString());
  if (first && options_.on_fenced) options_.on_fenced(status);
}

void TaskManager::CancelRemotely(const std::string& tenant, const std::string& task_id,
                                 TaskCallback done) {
  if (absl::Status s = options_.replicas->RequestCancel(task_id); !s.ok()) {
    done(absl::IsNotFound(s) ? absl::NotFoundError(absl::StrCat("no task ", task_id)) : s);
    return;
  }
  auto waiter = std::make_shared<CancelWaiter>(std::move(done));
  absl::StatusOr<uint64_t> token = Watch(tenant, task_id, waiter);
  if (!token.ok()) {
    waiter->Answer(token.status());
    return;
  }
  executor_.RunAt(clock_.Now() + options_.remote_cancel_wait,
                  [this, waiter, task_id, token = *token] {
                    Unwatch(task_id, token);
                    waiter->Answer(absl::UnavailableError(absl::StrCat(
                        "the cancel of task ", task_id,
                        " is recorded, but the replica running it has not carried it out yet; "
                        "CancelTask again or watch the task to see it end")));
                  });
}

}  // namespace qwenimage::tasks
