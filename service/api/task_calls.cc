#include "service/api/task_calls.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/api/request_codec.h"
#include "service/api/status.h"
#include "service/tasks/convert.h"

namespace qwenimage::api {
namespace {

// Events a slow reader may have pending before intermediate snapshots are dropped (each
// snapshot is complete, so only the newest matters).
constexpr size_t kMaxPendingEvents = 32;

grpc::ByteBuffer Stamped(v1::TaskEvent event) {
  tasks::ToProto(absl::Now(), event.mutable_event_time());
  grpc::ByteBuffer bytes;
  EncodeMessage(event, &bytes);
  return bytes;
}

}  // namespace

absl::Status TaskSubscription::Register(const std::string& tenant,
                                        const std::shared_ptr<Drainable>& call) {
  absl::Status s = absl::OkStatus();
  if (stream_) {
    s = ctx_.registry.AddStream(call, tenant);
  } else if (!ctx_.registry.Add(call)) {
    s = absl::UnavailableError("the server is shutting down");
  }
  registered_ = s.ok();
  return s;
}

bool TaskSubscription::Start(const std::string& tenant, const std::string& task_id,
                             const std::shared_ptr<Drainable>& call,
                             const std::shared_ptr<tasks::TaskWatcher>& watcher,
                             grpc::Status* error) {
  task_id_ = task_id;
  if (!registered_) {
    absl::Status s = Register(tenant, call);
    if (absl::IsUnavailable(s)) {
      call->Drain("the server is shutting down");
      return false;
    }
    if (!s.ok()) {
      *error = ToGrpcStatus(s);
      return false;
    }
  }
  absl::StatusOr<uint64_t> token = ctx_.manager.Watch(tenant, task_id, watcher);
  if (!token.ok()) {
    *error = ToGrpcStatus(token.status());
    return false;
  }
  token_ = *token;
  return true;
}

void TaskSubscription::End(const std::shared_ptr<Drainable>& call) {
  ctx_.registry.Remove(call);
  if (!task_id_.empty()) ctx_.manager.Unwatch(task_id_, token_);
}

// Shared between the reactor and the task manager, which may call it after the RPC is gone.
class TaskStream::Sink final : public tasks::TaskWatcher,
                               public Drainable,
                               public std::enable_shared_from_this<Sink> {
 public:
  Sink(TaskStream* stream, Executor& executor, absl::Duration heartbeat)
      : executor_(executor), heartbeat_(heartbeat), stream_(stream) {}

  void OnTaskUpdate(const v1::Task& task) override {
    v1::TaskEvent event;
    *event.mutable_task() = task;
    Push(Stamped(std::move(event)), tasks::IsTerminal(task.state()), grpc::Status::OK);
  }

  void Drain(const std::string& reason) override {
    v1::TaskEvent event;
    event.mutable_reconnect()->set_reason(reason);
    Push(Stamped(std::move(event)), /*finish=*/true, grpc::Status::OK);
  }

  void ScheduleHeartbeat() {
    if (heartbeat_ <= absl::ZeroDuration()) return;
    std::weak_ptr<Sink> weak = shared_from_this();
    Executor::TimerId id = executor_.RunAt(absl::Now() + heartbeat_, [weak] {
      std::shared_ptr<Sink> self = weak.lock();
      if (self == nullptr) return;
      self->Heartbeat();
    });
    absl::MutexLock lock(&mu_);
    timer_ = id;
  }

  void Heartbeat() {
    {
      absl::MutexLock lock(&mu_);
      timer_ = 0;
      if (stream_ == nullptr || finishing_) return;
      if (!writing_ && queue_.empty()) {
        v1::TaskEvent event;
        event.mutable_heartbeat();
        queue_.push_back(Stamped(std::move(event)));
        WriteNextLocked();
      }
    }
    ScheduleHeartbeat();
  }

  void OnWriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!ok) {
      // The client is gone: nothing more can be written, but the RPC must still be finished,
      // or its reactor never completes and a server shutdown waits for it forever.
      queue_.clear();
      if (!finishing_) final_ = grpc::Status::CANCELLED;
      finishing_ = true;
      FinishLocked();
      return;
    }
    WriteNextLocked();
  }

  void FinishNow(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    // The buffer being written (the front) must live until its OnWriteDone, which finishes.
    queue_.erase(queue_.begin() + (writing_ && !queue_.empty() ? 1 : 0), queue_.end());
    finishing_ = true;
    final_ = status;
    if (!writing_) FinishLocked();
  }

  // While held, the RPC does not finish: work on the executor still uses the reactor.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  // Ends the hold; a finish asked for meanwhile happens now. The reactor may be gone after.
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
    WriteNextLocked();
  }

  // The reactor is gone: drop everything that arrives later.
  void Detach() {
    Executor::TimerId timer;
    {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
      timer = timer_;
    }
    if (timer != 0) executor_.CancelTimer(timer);
  }

 private:
  void Push(grpc::ByteBuffer event, bool finish, const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (stream_ == nullptr || finishing_) return;
    if (queue_.size() >= kMaxPendingEvents) {
      // Keep the one being written (front); drop the oldest pending snapshot.
      queue_.erase(queue_.begin() + (writing_ ? 1 : 0));
    }
    queue_.push_back(std::move(event));
    if (finish) {
      finishing_ = true;
      final_ = status;
    }
    WriteNextLocked();
  }

  // Starts the next write, or finishes once everything is written. gRPC runs the reaction
  // later on its own thread, so starting operations under mu_ cannot deadlock.
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || stream_ == nullptr) return;
    if (!queue_.empty()) {
      writing_ = true;
      stream_->StartWrite(&queue_.front());
      return;
    }
    if (finishing_) FinishLocked();
  }

  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || stream_ == nullptr || held_) return;  // Release finishes a held one
    finished_ = true;
    stream_->Finish(final_);
  }

  Executor& executor_;
  const absl::Duration heartbeat_;
  absl::Mutex mu_;
  TaskStream* stream_ ABSL_GUARDED_BY(mu_);
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);  // front is being written if writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
  Executor::TimerId timer_ ABSL_GUARDED_BY(mu_) = 0;
};

TaskStream::TaskStream(const CallContext& ctx)
    : executor_(ctx.executor),
      subscription_(ctx, /*stream=*/true),
      sink_(std::make_shared<Sink>(this, ctx.executor, ctx.heartbeat_interval)) {}

void TaskStream::RunOnExecutor(absl::AnyInvocable<void()> work) {
  sink_->Hold();
  // The sink, not the reactor, ends the hold: the reactor may be deleted once it is released.
  executor_.Run([sink = sink_, work = std::move(work)]() mutable {
    work();
    sink->Release();
  });
}

grpc::Status TaskStream::Admit(const std::string& tenant) {
  return ToGrpcStatus(subscription_.Register(tenant, sink_));
}

void TaskStream::Start(const std::string& tenant, const std::string& task_id) {
  grpc::Status error;
  if (subscription_.Start(tenant, task_id, sink_, sink_, &error)) {
    sink_->ScheduleHeartbeat();
  } else if (!error.ok()) {
    FinishWith(error);
  }
}

void TaskStream::FinishWith(const grpc::Status& status) { sink_->FinishNow(status); }

void TaskStream::OnWriteDone(bool ok) { sink_->OnWriteDone(ok); }

void TaskStream::OnCancel() { sink_->FinishNow(grpc::Status::CANCELLED); }

void TaskStream::OnDone() {
  sink_->Detach();
  subscription_.End(sink_);
  delete this;
}

class WaitCall::Waiter final : public tasks::TaskWatcher,
                               public Drainable,
                               public std::enable_shared_from_this<Waiter> {
 public:
  Waiter(WaitCall* call, grpc::ByteBuffer* response) : call_(call), response_(response) {}

  void OnTaskUpdate(const v1::Task& task) override {
    if (!tasks::IsTerminal(task.state())) return;
    if (task.state() == v1::TASK_STATE_SUCCEEDED) {
      absl::MutexLock lock(&mu_);
      if (call_ == nullptr || finished_) return;
      EncodeMessage(task, response_);
      FinishLocked(grpc::Status::OK);
      return;
    }
    Finish(TaskOutcomeStatus(task));
  }

  void Drain(const std::string& reason) override {
    Finish(ToGrpcStatus(absl::UnavailableError(
        absl::StrCat(reason, "; the task continues: fetch it with GetTask or retry with the same "
                             "request_id"))));
  }

  void Finish(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void Detach() {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }

  // The task is created on the executor while a cancel may arrive: its id lives under mu_.
  void SetTaskId(const std::string& task_id) {
    absl::MutexLock lock(&mu_);
    task_id_ = task_id;
  }

  void Cancel() {
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(absl::CancelledError(
        task_id_.empty() ? std::string("call cancelled")
                         : absl::StrCat("call cancelled; task ", task_id_, " continues"))));
  }

  // As TaskStream's Sink: no finish while held; Release does the first one asked for.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
    if (deferred_.has_value()) FinishLocked(*std::exchange(deferred_, std::nullopt));
  }

 private:
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (call_ == nullptr || finished_) return;
    if (held_) {
      if (!deferred_.has_value()) deferred_ = status;
      return;
    }
    finished_ = true;
    call_->Finish(status);
  }

  absl::Mutex mu_;
  WaitCall* call_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer* response_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> deferred_ ABSL_GUARDED_BY(mu_);
  std::string task_id_ ABSL_GUARDED_BY(mu_);
};

WaitCall::WaitCall(const CallContext& ctx, grpc::ByteBuffer* response)
    : executor_(ctx.executor),
      subscription_(ctx, /*stream=*/false),
      waiter_(std::make_shared<Waiter>(this, response)) {}

void WaitCall::RunOnExecutor(absl::AnyInvocable<void()> work) {
  waiter_->Hold();
  executor_.Run([waiter = waiter_, work = std::move(work)]() mutable {
    work();
    waiter->Release();
  });
}

void WaitCall::Start(const std::string& tenant, const std::string& task_id) {
  waiter_->SetTaskId(task_id);
  grpc::Status error;
  if (!subscription_.Start(tenant, task_id, waiter_, waiter_, &error) && !error.ok()) {
    FinishWith(error);
  }
}

void WaitCall::FinishWith(const grpc::Status& status) { waiter_->Finish(status); }

void WaitCall::OnCancel() { waiter_->Cancel(); }

void WaitCall::OnDone() {
  waiter_->Detach();
  subscription_.End(waiter_);
  delete this;
}

}  // namespace qwenimage::api
