// Retention: garbage-collects finished tasks. --task_ttl deletes a task (its images, then its
// record, and with it the request_id) once it finished that long ago; --image_ttl deletes only
// its images and marks the record (Task.images_expire_time), so that GetTask still answers and
// ReadImage says the images expired. Sweeps run periodically on the executor, in bounded batches.
#ifndef QWENIMAGE_SERVICE_TASKS_RETENTION_H_
#define QWENIMAGE_SERVICE_TASKS_RETENTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/store/image_store.h"
#include "service/store/task_store.h"
#include "service/tasks/task_observer.h"

namespace qwenimage::tasks {

struct RetentionOptions {
  // A finished task is deleted this long after it finished (its update_time); 0 = kept forever.
  absl::Duration task_ttl = absl::ZeroDuration();
  // A succeeded task's images are deleted this long after it finished, the record kept; 0 = the
  // images live as long as the task. At most task_ttl when both are set.
  absl::Duration image_ttl = absl::ZeroDuration();
  // Time between sweeps (the first one is this long after Start).
  absl::Duration sweep_interval = absl::Minutes(1);
  // Per sweep and per kind (tasks, images): at most this many deletions are tried; the rest
  // waits for the next sweep.
  int batch_size = 500;

  bool enabled() const {
    return task_ttl > absl::ZeroDuration() || image_ttl > absl::ZeroDuration();
  }
};

// INVALID_ARGUMENT for a negative TTL, image_ttl > task_ttl (both set), or a non-positive
// sweep_interval or batch_size.
absl::Status ValidateRetentionOptions(const RetentionOptions& options);

// Only finished tasks are ever touched, and none that `is_active` still reports (a task between
// its terminal write and its publication): terminal records are written by nobody else, so the
// sweeper's writes race with no task flow. Concurrent deletes (DeleteTask, another replica's
// sweeper) are harmless: every step accepts that the task or its images are already gone.
//
// Crash safety: images go before the record (a crash in between leaves a record whose images
// are gone, which the next sweep deletes or marks, never files without a task), and an image
// expiry is marked only after the images are gone.
//
// The image sweep walks the finished tasks oldest first from a position kept in memory (tasks
// behind it are done); after a restart it walks them once from the oldest again, reading up to
// kMaxPagesPerSweep pages per sweep.
class Retention {
 public:
  static constexpr int kMaxPagesPerSweep = 20;

  // `is_active(task_id)`: whether the task manager still runs that task; `changed(task_id)`:
  // called after a task's record was deleted or marked (caches forget it). Everything must
  // outlive this object.
  Retention(RetentionOptions options, store::TaskStore& tasks, store::ImageStore& images,
            Executor& executor, const Clock& clock, TaskObserver& observer,
            std::function<bool(const std::string&)> is_active,
            std::function<void(const std::string&)> changed);
  ~Retention();

  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Schedules the periodic sweeps (nothing when neither TTL is set). Once.
  void Start();
  // No sweep starts after this returns; waits for a sweep in progress. Idempotent.
  void Stop();

  struct SweepResult {
    int tasks_deleted = 0;   // records (with their images) deleted by task_ttl
    int images_expired = 0;  // tasks whose images image_ttl deleted
  };
  // One sweep now, on the calling thread (blocking: the stores). The timer calls this; never
  // call it while another sweep runs.
  SweepResult SweepOnce();

 private:
  // Shared with the timer's closure, which may outlive this object.
  struct Schedule {
    absl::Mutex mu;
    bool stopped ABSL_GUARDED_BY(mu) = false;
    bool sweeping ABSL_GUARDED_BY(mu) = false;
    Executor::TimerId timer ABSL_GUARDED_BY(mu) = 0;
  };

  void ScheduleNext();
  int DeleteTasks(absl::Time cutoff);
  int ExpireImages(absl::Time cutoff, absl::Time now);

  const RetentionOptions options_;
  store::TaskStore& tasks_;
  store::ImageStore& images_;
  Executor& executor_;
  const Clock& clock_;
  TaskObserver& observer_;
  const std::function<bool(const std::string&)> is_active_;
  const std::function<void(const std::string&)> changed_;
  const std::shared_ptr<Schedule> schedule_ = std::make_shared<Schedule>();

  // The image sweep's position: every finished task up to it is done.
  absl::Mutex cursor_mu_;
  std::optional<store::FinishedCursor> image_cursor_ ABSL_GUARDED_BY(cursor_mu_);
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_RETENTION_H_
