// TaskWatcher: receives every published state of one task (WatchTask streams implement it).
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_WATCHER_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_WATCHER_H_

#include "qwenimage/v1/task.pb.h"

namespace qwenimage::tasks {

class TaskWatcher {
 public:
  virtual ~TaskWatcher() = default;
  // The first call carries the current snapshot; each later call the next published state, in
  // order. A terminal state is the last call. Calls never overlap and never run under a lock of
  // the task manager; they must not block.
  virtual void OnTaskUpdate(const v1::Task& task) = 0;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_WATCHER_H_
