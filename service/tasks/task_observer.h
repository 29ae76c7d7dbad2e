// TaskObserver: what the task layer reports about task lifecycles, for metrics. The Prometheus
// implementation lives in service/metrics; the task layer knows nothing of it.
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_OBSERVER_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_OBSERVER_H_

#include <string>

#include "absl/time/time.h"
#include "qwenimage/v1/task.pb.h"
#include "service/tasks/quota_error.h"

namespace qwenimage::tasks {

// Called on task strands: implementations must be thread-safe and must not block.
class TaskObserver {
 public:
  virtual ~TaskObserver() = default;
  // A new task was stored (not an idempotent repeat).
  virtual void OnTaskCreated(const v1::Task& task) {}
  // The task reached a terminal state (timestamps set).
  virtual void OnTaskFinished(const v1::Task& task) {}
  // Upstream generation finished after `run` (submit or start to result).
  virtual void OnUpstreamRun(const std::string& model, absl::Duration run) {}
  // Every image of a succeeded task was downloaded and stored, `download` after upstream's
  // result arrived.
  virtual void OnImagesStored(const std::string& model, absl::Duration download) {}
  // A submission is retried after an upstream refusal; `reason` is the upstream code.
  virtual void OnSubmitRetry(const std::string& model, const std::string& reason) {}
  // Writing a task's state failed; the task is held and the write retried.
  virtual void OnStoreWriteFailed() {}
  // Retention deleted `count` finished tasks (record and images, --task_ttl), or the images of
  // `count` succeeded tasks (--image_ttl). Called on an executor thread.
  virtual void OnTasksExpired(int count) {}
  virtual void OnImagesExpired(int count) {}
  // Upstream started (true) or stopped (false) refusing the key or account.
  virtual void OnCredentialsRefused(bool refused) {}
  // A create of `tenant` was refused for `quota` (RESOURCE_EXHAUSTED; max_running never
  // refuses, it delays admission).
  virtual void OnQuotaRejected(const std::string& tenant, QuotaKind quota) {}
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_OBSERVER_H_
