// RemoteWatches: WatchTask on a replica that does not run the task. The owner's writes reach
// this replica as change notifications (ReplicaStore's feed); each one, and a periodic re-read
// for notifications that never came, reads the stored row and publishes it if it changed. The
// store is the truth: a missed notification costs latency, never an event's content.
//
// Each task's reads and publications run on one strand, so a watcher's calls never overlap and
// keep the store's order. A watcher gets the snapshot it was added with, then every distinct
// stored state after it, the terminal one last (TaskWatcher's contract). States the owner
// published without storing (queue positions) are not seen here.
#ifndef QWENIMAGE_SERVICE_TASKS_REMOTE_WATCHES_H_
#define QWENIMAGE_SERVICE_TASKS_REMOTE_WATCHES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "qwenimage/v1/task.pb.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/common/serial_queue.h"
#include "service/store/task_store.h"
#include "service/tasks/task_watcher.h"

namespace qwenimage::tasks {

class RemoteWatches {
 public:
  // `decorate` turns a stored task into what a caller sees (download URLs); it must not block.
  RemoteWatches(store::TaskStore& tasks, Executor& executor, const Clock& clock,
                absl::Duration refresh_interval, std::function<v1::Task(v1::Task)> decorate);
  ~RemoteWatches();

  // Starts the periodic re-read.
  void Start();
  // Ends the re-read; later changes are ignored. Watchers in place get nothing more.
  void Stop();

  // Registers `watcher` for a task whose stored state is `snapshot`, not terminal: it gets the
  // snapshot (from the executor), then each change. `token` (unique, the caller's) is for Remove.
  void Add(uint64_t token, const v1::Task& snapshot, std::shared_ptr<TaskWatcher> watcher);
  void Remove(const std::string& task_id, uint64_t token);
  // The stored row of `task_id` may have changed ("": any row may have).
  void OnChanged(const std::string& task_id);

  // Tasks watched now (for tests and metrics).
  int WatchedTasks() const;

 private:
  struct Entry {
    explicit Entry(Executor& executor) : strand(std::make_shared<SerialQueue>(executor)) {}
    const std::shared_ptr<SerialQueue> strand;
    // Guarded by RemoteWatches::mu_.
    std::vector<std::pair<uint64_t, std::shared_ptr<TaskWatcher>>> watchers;
    bool read_pending = false;  // a re-read is posted and has not started
    int adds_pending = 0;       // Add posted, watcher not registered yet
    // Touched only on `strand`: the last state published, serialized.
    std::string last;
  };

  void Refresh(const std::string& task_id, const std::shared_ptr<Entry>& entry);
  void ReadAndPublish(const std::string& task_id, const std::shared_ptr<Entry>& entry);
  void ScheduleTick() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::TaskStore& tasks_;
  Executor& executor_;
  const Clock& clock_;
  const absl::Duration refresh_interval_;
  const std::function<v1::Task(v1::Task)> decorate_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  Executor::TimerId tick_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_REMOTE_WATCHES_H_
