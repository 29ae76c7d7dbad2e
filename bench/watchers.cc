#include "bench/watchers.h"

#include <utility>

namespace qwenimage::bench {
namespace {

bool Terminal(v1::TaskState state) {
  return state == v1::TASK_STATE_SUCCEEDED || state == v1::TASK_STATE_FAILED ||
         state == v1::TASK_STATE_CANCELLED;
}

}  // namespace

class Watchers::Stream : public grpc::ClientReadReactor<v1::TaskEvent> {
 public:
  Stream(Watchers& owner, v1::ImageService::Stub& stub, const std::string& tenant,
         const std::string& task_id)
      : owner_(owner) {
    record_.task_id = task_id;
    record_.tenant = tenant;
    record_.terminal_at = absl::InfinitePast();
    request_.set_task_id(task_id);
    ctx_.AddMetadata("x-qwenimage-tenant", tenant);
    stub.async()->WatchTask(&ctx_, &request_, this);
    StartRead(&event_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&owner_.mu_);
    if (event_.has_task()) {
      const v1::Task& task = event_.task();
      if (!record_.first_event) {
        record_.first_event = true;
        ++owner_.snapshots_;
      }
      if (task.state() == v1::TASK_STATE_QUEUED) {
        record_.queue_positions.push_back(task.queue_position());
      }
      if (Terminal(task.state()) && record_.terminal_at == absl::InfinitePast()) {
        record_.terminal_at = now;
        record_.final_task = task;
        ++owner_.settled_;
      }
    }
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&owner_.mu_);
    record_.status = status;
    record_.done = true;
    if (record_.terminal_at == absl::InfinitePast()) ++owner_.settled_;
    ++owner_.ended_;
  }

  void Cancel() { ctx_.TryCancel(); }
  WatchRecord record_;  // guarded by owner_.mu_

 private:
  Watchers& owner_;
  grpc::ClientContext ctx_;
  v1::WatchTaskRequest request_;
  v1::TaskEvent event_;
};

Watchers::Watchers() = default;

Watchers::~Watchers() {
  CancelAll();
  absl::MutexLock lock(&mu_);
  const size_t n = streams_.size();
  auto all_ended = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ >= n; };
  mu_.Await(absl::Condition(&all_ended));
}

void Watchers::Watch(v1::ImageService::Stub& stub, const std::string& tenant,
                     const std::string& task_id) {
  streams_.push_back(std::make_unique<Stream>(*this, stub, tenant, task_id));
}

bool Watchers::AwaitSnapshots(size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return snapshots_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool Watchers::AwaitTerminal(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const size_t n = streams_.size();
  auto all = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return settled_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
}

void Watchers::CancelAll() {
  for (auto& s : streams_) s->Cancel();
}

std::vector<WatchRecord> Watchers::Records() {
  absl::MutexLock lock(&mu_);
  std::vector<WatchRecord> out;
  out.reserve(streams_.size());
  for (auto& s : streams_) out.push_back(s->record_);
  return out;
}

}  // namespace qwenimage::bench
