// RecentTasks: the last finished tasks, in memory, so that GetTask and WatchTask of a task that
// ended recently do not go to the store (the database is kept off the hot read path). Bounded;
// the least recently used entry goes first.
//
// Consistency: a finished task changes only when retention expires its images or deletes it, or
// a caller deletes it; each of those erases its entry after the store write (on other replicas
// through the change feed). A read that missed and went to the store puts what it read only if
// no erase happened since it started (BeginRead's generation), so a stale row read before a
// change never lands after that change's erase.
#ifndef QWENIMAGE_SERVICE_TASKS_RECENT_TASKS_H_
#define QWENIMAGE_SERVICE_TASKS_RECENT_TASKS_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "qwenimage/v1/task.pb.h"

namespace qwenimage::tasks {

class RecentTasks {
 public:
  struct Entry {
    std::string tenant;
    v1::Task task;
  };

  explicit RecentTasks(int capacity) : capacity_(capacity) {}

  std::optional<Entry> Find(const std::string& task_id);
  // The state its runner just stored: always current.
  void PutLatest(const std::string& tenant, const v1::Task& task);
  // A generation to pass to PutRead for a store read about to start.
  uint64_t BeginRead();
  // What a store read that began at `generation` returned; dropped if anything was erased since.
  void PutRead(uint64_t generation, const std::string& tenant, const v1::Task& task);
  void Erase(const std::string& task_id);
  void Clear();

  int size() const;

 private:
  using Order = std::list<std::string>;  // most recently used first
  struct Slot {
    Entry entry;
    Order::iterator position;
  };
  void PutLocked(const std::string& tenant, const v1::Task& task)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Slot> slots_ ABSL_GUARDED_BY(mu_);
  Order order_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_RECENT_TASKS_H_
