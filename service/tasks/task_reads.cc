// TaskManager's read side: Get (memory first, then the store), List, Cancel's lookup, Delete,
// Watch (on the task's strand, or RemoteWatches for a task another replica runs) and OpenImage.
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

std::optional<absl::StatusOr<v1::Task>> TaskManager::GetFromMemory(const std::string& tenant,
                                                                   const std::string& task_id) {
  std::optional<v1::Task> task;
  if (ActivePtr a = Find(task_id)) {
    if (a->tenant != tenant) return absl::NotFoundError(absl::StrCat("no task ", task_id));
    absl::MutexLock lock(&mu_);
    task = a->published;
  } else if (std::optional<RecentTasks::Entry> recent = recent_.Find(task_id)) {
    if (recent->tenant != tenant) return absl::NotFoundError(absl::StrCat("no task ", task_id));
    task = std::move(recent->task);
  } else {
    return std::nullopt;
  }
  return WithDownloadUrls(options_.download_urls, *std::move(task));
}

absl::StatusOr<v1::Task> TaskManager::Get(const std::string& tenant, const std::string& task_id) {
  if (std::optional<absl::StatusOr<v1::Task>> in_memory = GetFromMemory(tenant, task_id)) {
    return *std::move(in_memory);
  }
  const uint64_t generation = recent_.BeginRead();
  absl::StatusOr<store::TaskRecord> stored = tasks_.Get(task_id);
  if (!stored.ok() || stored->tenant != tenant) {
    if (stored.ok() || absl::IsNotFound(stored.status())) {
      return absl::NotFoundError(absl::StrCat("no task ", task_id));
    }
    return stored.status();
  }
  if (IsTerminal(stored->task.state())) recent_.PutRead(generation, stored->tenant, stored->task);
  return WithDownloadUrls(options_.download_urls, std::move(stored->task));
}

absl::StatusOr<ListPage> TaskManager::List(const ListRequest& request) {
  absl::StatusOr<store::ListQuery> query = ToStoreQuery(request);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::vector<store::TaskRecord>> records = tasks_.List(*query);
  if (!records.ok()) return records.status();
  ListPage result;
  for (store::TaskRecord& r : *records) {
    if (static_cast<int>(result.tasks.size()) == request.page_size) {
      result.next_page_token = NextPageToken(request, result.tasks.back());
      break;
    }
    // The store has the last persisted state; an active task may have a newer one.
    if (ActivePtr a = Find(r.task.id())) {
      absl::MutexLock lock(&mu_);
      result.tasks.push_back(a->published);
    } else {
      result.tasks.push_back(std::move(r.task));
    }
  }
  for (v1::Task& task : result.tasks) {
    task = WithDownloadUrls(options_.download_urls, std::move(task));
  }
  return result;
}

void TaskManager::Cancel(const std::string& tenant, const std::string& task_id, TaskCallback done) {
  if (ActivePtr a = Find(task_id); a != nullptr && a->tenant == tenant) {
    a->strand->Post(
        [this, a, done = std::move(done)]() mutable { CancelOnStrand(a, std::move(done)); });
    return;
  }
  // Not active: on a single node the stored task is final as it is; with replicas another one
  // may run it. Read it on the executor, since the caller may be a gRPC reaction.
  executor_.Run([this, tenant, task_id, done = std::move(done)]() mutable {
    absl::StatusOr<v1::Task> task = Get(tenant, task_id);
    if (!task.ok() || IsTerminal(task->state()) || options_.replicas == nullptr) {
      done(std::move(task));
      return;
    }
    CancelRemotely(tenant, task_id, std::move(done));
  });
}

absl::Status TaskManager::Delete(const std::string& tenant, const std::string& task_id) {
  absl::StatusOr<v1::Task> task = Get(tenant, task_id);
  if (!task.ok()) return task.status();
  if (!IsTerminal(task->state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", task_id, " is not finished; cancel it first"));
  }
  // The row first: a crash between the two leaves files without a task, which the next start
  // removes; the other order could leave a SUCCEEDED task without its images.
  absl::Status deleted = tasks_.Delete(task_id);
  recent_.Erase(task_id);
  if (!deleted.ok()) return deleted;
  if (absl::Status s = images_.DeleteTask(task_id); !s.ok()) {
    spdlog::warn("task {}: removing its images failed (the next start retries): {}", task_id,
                 s.ToString());
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TaskManager::Watch(const std::string& tenant, const std::string& task_id,
                                            std::shared_ptr<TaskWatcher> watcher) {
  if (ActivePtr a = Find(task_id); a != nullptr && a->tenant == tenant) {
    uint64_t token;
    {
      absl::MutexLock lock(&mu_);
      token = next_token_++;
    }
    // Subscribing on the strand orders the snapshot before every later change.
    a->strand->Post([this, a, token, watcher = std::move(watcher)] {
      v1::Task snapshot;
      {
        absl::MutexLock lock(&mu_);
        snapshot = a->published;
        if (!a->terminal_published) a->watchers.emplace_back(token, watcher);
      }
      watcher->OnTaskUpdate(snapshot);
    });
    return token;
  }
  absl::StatusOr<v1::Task> task = Get(tenant, task_id);
  if (!task.ok()) return task.status();
  if (remote_watches_ != nullptr && !IsTerminal(task->state())) {
    // Another replica runs it (or will): its stored changes reach this watch.
    uint64_t token;
    {
      absl::MutexLock lock(&mu_);
      token = next_token_++;
    }
    remote_watches_->Add(token, *task, std::move(watcher));
    return token;
  }
  executor_.Run(
      [watcher = std::move(watcher), task = *std::move(task)] { watcher->OnTaskUpdate(task); });
  return 0;
}

void TaskManager::Unwatch(const std::string& task_id, uint64_t token) {
  if (remote_watches_ != nullptr) remote_watches_->Remove(task_id, token);
  ActivePtr a = Find(task_id);
  if (a == nullptr) return;
  absl::MutexLock lock(&mu_);
  auto& w = a->watchers;
  w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& e) { return e.first == token; }),
          w.end());
}

absl::StatusOr<ImageStream> TaskManager::OpenImage(const std::string& tenant,
                                                   const std::string& task_id, int index) {
  absl::StatusOr<v1::Task> task = Get(tenant, task_id);
  if (!task.ok()) return task.status();
  if (task->state() != v1::TASK_STATE_SUCCEEDED) {
    return absl::FailedPreconditionError(absl::StrCat("task ", task_id, " has no images: it is ",
                                                      v1::TaskState_Name(task->state())));
  }
  if (task->has_images_expire_time()) {
    return absl::NotFoundError(absl::StrCat(
        "task ", task_id, ": the images of this task expired after --image_ttl (deleted at ",
        absl::FormatTime(FromProto(task->images_expire_time()), absl::UTCTimeZone()), ")"));
  }
  // By Image.index: with an image lost (image_errors) the stored ones keep their indexes.
  for (const v1::Image& image : task->images()) {
    if (image.index() != index) continue;
    absl::StatusOr<std::unique_ptr<store::ImageReader>> reader = images_.Open(task_id, index);
    if (!reader.ok()) return reader.status();
    return ImageStream{image, *std::move(reader)};
  }
  return absl::NotFoundError(absl::StrCat("task ", task_id, " has no image ", index, " (it has ",
                                          task->images_size(), ")"));
}

}  // namespace qwenimage::tasks
