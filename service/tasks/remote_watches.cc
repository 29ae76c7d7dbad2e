#include "service/tasks/remote_watches.h"

#include <algorithm>

#include "service/tasks/convert.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

RemoteWatches::RemoteWatches(store::TaskStore& tasks, Executor& executor, const Clock& clock,
                             absl::Duration refresh_interval,
                             std::function<v1::Task(v1::Task)> decorate)
    : tasks_(tasks),
      executor_(executor),
      clock_(clock),
      refresh_interval_(refresh_interval),
      decorate_(std::move(decorate)) {}

RemoteWatches::~RemoteWatches() { Stop(); }

void RemoteWatches::Start() {
  absl::MutexLock lock(&mu_);
  if (running_) return;
  running_ = true;
  ScheduleTick();
}

void RemoteWatches::Stop() {
  Executor::TimerId tick;
  {
    absl::MutexLock lock(&mu_);
    running_ = false;
    tick = tick_;
    tick_ = 0;
    entries_.clear();
  }
  if (tick != 0) executor_.CancelTimer(tick);
}

void RemoteWatches::ScheduleTick() {
  tick_ = executor_.RunAt(clock_.Now() + refresh_interval_, [this] {
    {
      absl::MutexLock lock(&mu_);
      if (!running_) return;
      ScheduleTick();
    }
    OnChanged("");
  });
}

void RemoteWatches::Add(uint64_t token, const v1::Task& snapshot,
                        std::shared_ptr<TaskWatcher> watcher) {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Entry>& slot = entries_[snapshot.id()];
    if (slot == nullptr) slot = std::make_shared<Entry>(executor_);
    entry = slot;
    ++entry->adds_pending;
  }
  // On the strand: the snapshot goes before any change read after it, and the entry starts
  // from it if nothing was published yet.
  entry->strand->Post([this, entry, token, watcher = std::move(watcher), snapshot] {
    const std::string serialized = snapshot.SerializeAsString();
    if (entry->last.empty()) entry->last = serialized;
    {
      absl::MutexLock lock(&mu_);
      --entry->adds_pending;
      entry->watchers.emplace_back(token, watcher);
    }
    watcher->OnTaskUpdate(decorate_(snapshot));
    // Other watchers have seen a newer state already: this one catches up with it, since only
    // states after it will be published.
    v1::Task newer;
    if (entry->last != serialized && newer.ParseFromString(entry->last)) {
      watcher->OnTaskUpdate(decorate_(std::move(newer)));
    }
  });
  // A change between the caller's read and this registration would otherwise wait for a tick.
  Refresh(snapshot.id(), entry);
}

void RemoteWatches::Remove(const std::string& task_id, uint64_t token) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(task_id);
  if (it == entries_.end()) return;
  auto& w = it->second->watchers;
  w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& e) { return e.first == token; }),
          w.end());
  // Nobody left to tell: stop re-reading it.
  if (w.empty() && it->second->adds_pending == 0) entries_.erase(it);
}

void RemoteWatches::OnChanged(const std::string& task_id) {
  std::vector<std::pair<std::string, std::shared_ptr<Entry>>> targets;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    if (task_id.empty()) {
      for (const auto& [id, entry] : entries_) targets.emplace_back(id, entry);
    } else if (auto it = entries_.find(task_id); it != entries_.end()) {
      targets.emplace_back(task_id, it->second);
    }
  }
  for (const auto& [id, entry] : targets) Refresh(id, entry);
}

void RemoteWatches::Refresh(const std::string& task_id, const std::shared_ptr<Entry>& entry) {
  {
    absl::MutexLock lock(&mu_);
    if (entry->read_pending) return;  // the read already posted will see this change too
    entry->read_pending = true;
  }
  entry->strand->Post([this, task_id, entry] { ReadAndPublish(task_id, entry); });
}

void RemoteWatches::ReadAndPublish(const std::string& task_id,
                                   const std::shared_ptr<Entry>& entry) {
  {
    absl::MutexLock lock(&mu_);
    entry->read_pending = false;
  }
  absl::StatusOr<store::TaskRecord> stored = tasks_.Get(task_id);
  if (!stored.ok()) {
    if (!absl::IsNotFound(stored.status())) {
      spdlog::warn("watch of task {}: reading it failed (the next change or re-read retries): {}",
                   task_id, stored.status().ToString());
      return;
    }
    // Deleted, so it had ended; if that end was missed, it cannot be read any more. Its
    // watchers get nothing more (their callers see the stream idle, and GetTask NOT_FOUND).
    spdlog::warn("watch of task {}: the task was deleted before its end was read", task_id);
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(task_id);
    if (it != entries_.end() && it->second == entry && entry->adds_pending == 0) {
      entries_.erase(it);
    }
    return;
  }
  std::string serialized = stored->task.SerializeAsString();
  if (serialized == entry->last) return;
  entry->last = std::move(serialized);
  const bool terminal = IsTerminal(stored->task.state());
  std::vector<std::shared_ptr<TaskWatcher>> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [token, w] : entry->watchers) targets.push_back(w);
    if (terminal) {
      entry->watchers.clear();
      auto it = entries_.find(task_id);
      if (it != entries_.end() && it->second == entry) entries_.erase(it);
    }
  }
  const v1::Task task = decorate_(std::move(stored->task));
  for (const auto& w : targets) w->OnTaskUpdate(task);
}

int RemoteWatches::WatchedTasks() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

}  // namespace qwenimage::tasks
