#include "service/tasks/retention.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/tasks/convert.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {
namespace {

store::FinishedCursor PositionOf(const v1::Task& task) {
  return store::FinishedCursor{
      FromProto(task.has_update_time() ? task.update_time() : task.create_time()), task.id()};
}

}  // namespace

absl::Status ValidateRetentionOptions(const RetentionOptions& options) {
  if (options.task_ttl < absl::ZeroDuration() || options.image_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--task_ttl and --image_ttl must not be negative");
  }
  if (options.task_ttl > absl::ZeroDuration() && options.image_ttl > options.task_ttl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--image_ttl (", absl::FormatDuration(options.image_ttl),
        ") must not be longer than --task_ttl (", absl::FormatDuration(options.task_ttl),
        "): a task's images go with it"));
  }
  if (options.sweep_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--retention_sweep_interval must be positive");
  }
  if (options.batch_size <= 0) return absl::InvalidArgumentError("batch_size must be positive");
  return absl::OkStatus();
}

Retention::Retention(RetentionOptions options, store::TaskStore& tasks, store::ImageStore& images,
                     Executor& executor, const Clock& clock, TaskObserver& observer,
                     std::function<bool(const std::string&)> is_active,
                     std::function<void(const std::string&)> changed)
    : options_(std::move(options)),
      tasks_(tasks),
      images_(images),
      executor_(executor),
      clock_(clock),
      observer_(observer),
      is_active_(std::move(is_active)),
      changed_(std::move(changed)) {}

Retention::~Retention() { Stop(); }

void Retention::Start() {
  if (!options_.enabled()) return;
  spdlog::info("retention: finished tasks kept for {}, their images for {}; a sweep every {}",
               options_.task_ttl > absl::ZeroDuration() ? absl::FormatDuration(options_.task_ttl)
                                                        : "ever",
               options_.image_ttl > absl::ZeroDuration()
                   ? absl::FormatDuration(options_.image_ttl)
                   : "as long as their task",
               absl::FormatDuration(options_.sweep_interval));
  ScheduleNext();
}

void Retention::Stop() {
  Executor::TimerId timer = 0;
  {
    absl::MutexLock lock(&schedule_->mu);
    schedule_->stopped = true;
    timer = schedule_->timer;
    schedule_->timer = 0;
    schedule_->mu.Await(absl::Condition(
        +[](Schedule* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) { return !s->sweeping; },
        schedule_.get()));
  }
  if (timer != 0) executor_.CancelTimer(timer);
}

void Retention::ScheduleNext() {
  // The closure holds the schedule, so that it can tell a stop without touching this object;
  // while `sweeping` is set, Stop (and so the destructor) waits for it.
  std::shared_ptr<Schedule> schedule = schedule_;
  const Executor::TimerId timer =
      executor_.RunAt(clock_.Now() + options_.sweep_interval, [this, schedule] {
        {
          absl::MutexLock lock(&schedule->mu);
          if (schedule->stopped) return;
          schedule->sweeping = true;
          schedule->timer = 0;
        }
        SweepOnce();
        ScheduleNext();  // cancels its own timer if a stop came meanwhile
        absl::MutexLock lock(&schedule->mu);
        schedule->sweeping = false;
      });
  bool stopped = false;
  {
    absl::MutexLock lock(&schedule_->mu);
    stopped = schedule_->stopped;
    if (!stopped) schedule_->timer = timer;
  }
  if (stopped) executor_.CancelTimer(timer);
}

Retention::SweepResult Retention::SweepOnce() {
  const absl::Time now = clock_.Now();
  SweepResult result;
  // Tasks first: the image sweep then starts among the tasks that are kept.
  if (options_.task_ttl > absl::ZeroDuration()) {
    result.tasks_deleted = DeleteTasks(now - options_.task_ttl);
    if (result.tasks_deleted > 0) observer_.OnTasksExpired(result.tasks_deleted);
  }
  if (options_.image_ttl > absl::ZeroDuration()) {
    result.images_expired = ExpireImages(now - options_.image_ttl, now);
    if (result.images_expired > 0) observer_.OnImagesExpired(result.images_expired);
  }
  if (result.tasks_deleted > 0 || result.images_expired > 0) {
    spdlog::info("retention: deleted {} finished tasks, expired the images of {}",
                 result.tasks_deleted, result.images_expired);
  }
  return result;
}

int Retention::DeleteTasks(absl::Time cutoff) {
  // Deleted rows leave the listing; the cursor only steps over the ones left behind (active,
  // or a failed delete, retried next sweep).
  std::optional<store::FinishedCursor> after;
  int tried = 0;
  int deleted = 0;
  for (int page = 0; page < kMaxPagesPerSweep && tried < options_.batch_size; ++page) {
    const int limit = options_.batch_size - tried;
    absl::StatusOr<std::vector<store::TaskRecord>> records =
        tasks_.ListFinishedBefore(cutoff, limit, after);
    if (!records.ok()) {
      spdlog::warn("retention: listing finished tasks failed: {}", records.status().ToString());
      break;
    }
    for (const store::TaskRecord& record : *records) {
      const std::string& id = record.task.id();
      after = PositionOf(record.task);
      if (is_active_(id)) continue;
      ++tried;
      if (absl::Status s = images_.DeleteTask(id); !s.ok()) {
        spdlog::warn("retention: task {}: deleting its images failed (next sweep retries): {}", id,
                     s.ToString());
        continue;
      }
      absl::Status s = tasks_.Delete(id);
      changed_(id);
      if (!s.ok() && !absl::IsNotFound(s)) {
        spdlog::warn("retention: task {}: deleting it failed (next sweep retries): {}", id,
                     s.ToString());
        continue;
      }
      if (s.ok()) ++deleted;
    }
    if (static_cast<int>(records->size()) < limit) break;  // the end
  }
  return deleted;
}

int Retention::ExpireImages(absl::Time cutoff, absl::Time now) {
  std::optional<store::FinishedCursor> after;
  {
    absl::MutexLock lock(&cursor_mu_);
    after = image_cursor_;
  }
  // `done` follows `after` while every task so far is handled; a task left behind (active, a
  // failed delete) holds it there, so that the next sweep comes back for it.
  std::optional<store::FinishedCursor> done = after;
  bool contiguous = true;
  int tried = 0;
  int expired = 0;
  for (int page = 0; page < kMaxPagesPerSweep && tried < options_.batch_size; ++page) {
    absl::StatusOr<std::vector<store::TaskRecord>> records =
        tasks_.ListFinishedBefore(cutoff, options_.batch_size, after);
    if (!records.ok()) {
      spdlog::warn("retention: listing finished tasks failed: {}", records.status().ToString());
      break;
    }
    for (store::TaskRecord& record : *records) {
      if (tried >= options_.batch_size) break;
      v1::Task& task = record.task;
      const store::FinishedCursor position = PositionOf(task);
      after = position;
      // Only a succeeded task has images; one already marked is done.
      bool handled = task.state() != v1::TASK_STATE_SUCCEEDED || task.images_size() == 0 ||
                     task.has_images_expire_time();
      if (!handled && !is_active_(task.id())) {
        ++tried;
        if (absl::Status s = images_.DeleteTask(task.id()); !s.ok()) {
          spdlog::warn("retention: task {}: deleting its images failed (next sweep retries): {}",
                       task.id(), s.ToString());
        } else {
          // update_time stays: the task's own retention still counts from its end.
          ToProto(now, task.mutable_images_expire_time());
          absl::Status marked = tasks_.Update(record, store::Durability::kRelaxed);
          changed_(task.id());
          if (marked.ok()) ++expired;
          if (marked.ok() || absl::IsNotFound(marked)) {
            handled = true;  // marked, or deleted meanwhile
          } else {
            spdlog::warn("retention: task {}: marking its images expired failed (next sweep "
                         "retries): {}",
                         task.id(), marked.ToString());
          }
        }
      }
      contiguous = contiguous && handled;
      if (contiguous) done = position;
    }
    if (static_cast<int>(records->size()) < options_.batch_size) break;  // the end
  }
  absl::MutexLock lock(&cursor_mu_);
  image_cursor_ = done;
  return expired;
}

}  // namespace qwenimage::tasks
