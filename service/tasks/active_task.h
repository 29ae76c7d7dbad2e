// TaskManager::Active: the in-memory state of one unfinished task. Private to service/tasks.
#ifndef QWENIMAGE_SERVICE_TASKS_ACTIVE_TASK_H_
#define QWENIMAGE_SERVICE_TASKS_ACTIVE_TASK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/common/serial_queue.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::tasks {

struct TaskManager::Active {
  Active(Executor& executor, std::string tenant_in, std::string id_in, std::string model_in)
      : strand(std::make_shared<SerialQueue>(executor)),
        tenant(std::move(tenant_in)),
        id(std::move(id_in)),
        model(std::move(model_in)) {}

  const std::shared_ptr<SerialQueue> strand;
  const std::string tenant;
  const std::string id;
  const std::string model;

  // Touched only on `strand`.
  store::TaskRecord record;
  bool holds_slot = false;  // counts against the model's running limit
  bool billable = false;    // billed work in flight (TaskManager::SetBillable)
  bool call_in_flight = false;  // a billed call was sent and its reply not yet handled
  // When upstream first refused the key for this task's submission (cleared by a reply).
  std::optional<absl::Time> refused_since;
  int submit_attempts = 0;
  int input_read_attempts = 0;  // failed reads of an edit's stored inputs (back-off)
  int poll_failures = 0;
  dashscope::UpstreamTask result;  // upstream outcome while its images download
  absl::Time downloads_started;

  // Guarded by TaskManager::mu_.
  v1::Task published;
  std::vector<std::pair<uint64_t, std::shared_ptr<TaskWatcher>>> watchers;
  bool terminal_published = false;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_ACTIVE_TASK_H_
