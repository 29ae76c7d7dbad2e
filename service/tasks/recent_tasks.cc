#include "service/tasks/recent_tasks.h"

namespace qwenimage::tasks {

std::optional<RecentTasks::Entry> RecentTasks::Find(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(task_id);
  if (it == slots_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second.position);
  return it->second.entry;
}

void RecentTasks::PutLatest(const std::string& tenant, const v1::Task& task) {
  absl::MutexLock lock(&mu_);
  PutLocked(tenant, task);
}

uint64_t RecentTasks::BeginRead() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void RecentTasks::PutRead(uint64_t generation, const std::string& tenant, const v1::Task& task) {
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;
  PutLocked(tenant, task);
}

void RecentTasks::PutLocked(const std::string& tenant, const v1::Task& task) {
  if (capacity_ <= 0) return;
  auto it = slots_.find(task.id());
  if (it != slots_.end()) {
    it->second.entry = Entry{tenant, task};
    order_.splice(order_.begin(), order_, it->second.position);
    return;
  }
  order_.push_front(task.id());
  slots_.emplace(task.id(), Slot{Entry{tenant, task}, order_.begin()});
  while (static_cast<int>(slots_.size()) > capacity_) {
    slots_.erase(order_.back());
    order_.pop_back();
  }
}

void RecentTasks::Erase(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  auto it = slots_.find(task_id);
  if (it == slots_.end()) return;
  order_.erase(it->second.position);
  slots_.erase(it);
}

void RecentTasks::Clear() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  slots_.clear();
  order_.clear();
}

int RecentTasks::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(slots_.size());
}

}  // namespace qwenimage::tasks
