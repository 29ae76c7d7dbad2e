// TaskManager: taking on stored unfinished tasks — after a restart (Start), or claimed from a
// replica that lost its lease (Adopt) — and the image files a crash left without a task.
#include <utility>

#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_errors.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

int TaskManager::Resume(std::vector<store::TaskRecord> records) {
  const absl::Time now = clock_.Now();
  std::vector<ActivePtr> taken;
  for (store::TaskRecord& record : records) {
    if (ActivePtr a = Activate(std::move(record))) taken.push_back(std::move(a));
  }
  // Slots first: tasks that exist (or may) upstream hold theirs before anything is admitted.
  for (const ActivePtr& a : taken) {
    const v1::Task& task = a->record.task;
    if (task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC && task.has_submit_time()) {
      scheduler_.AcquireRunning(a->model, a->tenant);
    }
  }
  // Oldest first, each queued at the back of its tenant's line: every tenant keeps its order.
  for (const ActivePtr& a : taken) {
    const v1::Task task = a->record.task;
    const bool async = task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC;
    if (!task.has_submit_time()) {
      // Never sent upstream: safe to queue again. It passed its tenant's max_queued when it was
      // created (under quotas this manager does not know): only the global bound applies now.
      TenantQuotas resumed = options_.tenant_defaults;
      resumed.max_queued = 0;
      absl::StatusOr<int> position =
          scheduler_.Enqueue(task.spec().model(), a->tenant, task.id(), /*front=*/false,
                             FromProto(task.create_time()), &resumed);
      if (!position.ok()) {
        a->strand->Post([this, a, why = std::string(position.status().message())] {
          Finish(a, v1::TASK_STATE_FAILED, QueueFull(why));
        });
      }
      continue;
    }
    if (async) {
      // It exists upstream (or may), holding one of the account's slots (taken above).
      const bool known = !task.upstream_task_id().empty();
      a->strand->Post([this, a, known, now] {
        a->holds_slot = true;
        if (known) {
          SchedulePoll(a);
        } else {
          spdlog::info("task {}: tenant={} create was in flight when its runner stopped; "
                       "looking it up",
                       a->id, a->tenant);
          ResolveUnknownCreate(a, now, "the gateway stopped before the create's reply arrived");
        }
      });
      continue;
    }
    // A sync call was cut short: its outcome is unknown and sending it again could bill twice.
    // Unless its images were stored already (the end's write was lost): they are kept.
    a->strand->Post([this, a] {
      v1::Task& task = a->record.task;
      ImageFetcher::Outcome stored = fetcher_.RecoverStored(
          a->id, task.spec().prompt(), task.spec().n() > 0 ? task.spec().n() : 1);
      if (stored.images.empty()) {
        Finish(a, v1::TASK_STATE_FAILED, Interrupted());
        return;
      }
      spdlog::info("task {}: tenant={} its images were stored before its runner stopped; kept",
                   a->id, a->tenant);
      for (v1::Image& image : stored.images) *task.add_images() = std::move(image);
      for (v1::ImageError& e : stored.errors) *task.add_image_errors() = std::move(e);
      Finish(a, v1::TASK_STATE_SUCCEEDED, std::nullopt);
    });
  }
  // A caller on another replica asked to cancel it before it was claimed.
  for (const ActivePtr& a : taken) {
    if (!a->record.cancel_requested) continue;
    a->strand->Post([this, a] { CancelOnStrand(a, [](absl::StatusOr<v1::Task>) {}); });
  }
  return static_cast<int>(taken.size());
}

void TaskManager::RemoveOrphanedImages() {
  // DeleteTask removes the row first: a crash before the files went leaves them here.
  absl::StatusOr<std::vector<std::string>> ids = images_.ListTaskIds();
  if (!ids.ok()) {
    spdlog::warn("listing stored images failed: {}", ids.status().ToString());
    return;
  }
  int removed = 0;
  for (const std::string& id : *ids) {
    absl::StatusOr<store::TaskRecord> task = tasks_.Get(id);
    const bool orphan = absl::IsNotFound(task.status()) ||
                        (task.ok() && task->task.state() != v1::TASK_STATE_SUCCEEDED &&
                         IsTerminal(task->task.state()));
    if (orphan && images_.DeleteTask(id).ok()) ++removed;
  }
  if (removed > 0) spdlog::info("removed the images of {} deleted or failed tasks", removed);
}

}  // namespace qwenimage::tasks
