// The long-lived calls on a task: TaskStream (WatchTask, GenerateImagesStream) and WaitCall
// (GenerateImages). Both watch the task through the TaskManager and end on its terminal state.
#ifndef QWENIMAGE_SERVICE_API_TASK_CALLS_H_
#define QWENIMAGE_SERVICE_API_TASK_CALLS_H_

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "qwenimage/v1/image_service.pb.h"
#include "service/api/stream_registry.h"
#include "service/common/executor.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::api {

struct CallContext {
  tasks::TaskManager& manager;
  StreamRegistry& registry;
  Executor& executor;
  absl::Duration heartbeat_interval;
};

// What both calls do around their watcher: register it for drain and watch the task with it,
// then undo both when the RPC is done.
class TaskSubscription {
 public:
  // A `stream` counts against its tenant's task streams (StreamRegistry::AddStream).
  TaskSubscription(const CallContext& ctx, bool stream) : ctx_(ctx), stream_(stream) {}

  // Registers `call` for drain (and, for a stream, takes one of the tenant's stream slots):
  // UNAVAILABLE while shutting down, RESOURCE_EXHAUSTED when the tenant is at its cap. Start
  // does it unless it was done already.
  absl::Status Register(const std::string& tenant, const std::shared_ptr<Drainable>& call);
  // True once watching. False when it did not start: the server is shutting down (`call` was
  // drained at once and ends the RPC), the tenant has too many streams open or the task cannot
  // be watched (`*error` says why).
  bool Start(const std::string& tenant, const std::string& task_id,
             const std::shared_ptr<Drainable>& call,
             const std::shared_ptr<tasks::TaskWatcher>& watcher, grpc::Status* error);
  // From the reactor's OnDone.
  void End(const std::shared_ptr<Drainable>& call);

  const std::string& task_id() const { return task_id_; }

 private:
  const CallContext ctx_;
  const bool stream_;
  bool registered_ = false;
  std::string task_id_;
  uint64_t token_ = 0;
};

// Server side of a task stream (of serialized v1::TaskEvent messages: the methods are raw so
// that request decoding errors can name fields). Deletes itself when the RPC is done.
class TaskStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit TaskStream(const CallContext& ctx);
  // Runs `work` on the executor (it may block on the store: a create, a lookup). The RPC does
  // not finish (say, on a client cancel) before `work` returns, so `work` may use this stream.
  void RunOnExecutor(absl::AnyInvocable<void()> work);
  // Takes one of `tenant`'s stream slots before the task exists (GenerateImagesStream creates
  // it only once admitted): UNAVAILABLE while draining, RESOURCE_EXHAUSTED at the cap.
  grpc::Status Admit(const std::string& tenant);
  // Streams `task_id` of `tenant`; a failed lookup or admission ends the RPC with that error.
  void Start(const std::string& tenant, const std::string& task_id);
  void FinishWith(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Sink;
  Executor& executor_;
  TaskSubscription subscription_;
  std::shared_ptr<Sink> sink_;
};

// Server side of GenerateImages: finishes when the task ends, with the serialized v1::Task.
class WaitCall final : public grpc::ServerUnaryReactor {
 public:
  WaitCall(const CallContext& ctx, grpc::ByteBuffer* response);
  // As TaskStream::RunOnExecutor.
  void RunOnExecutor(absl::AnyInvocable<void()> work);
  void Start(const std::string& tenant, const std::string& task_id);
  void FinishWith(const grpc::Status& status);

  void OnCancel() override;
  void OnDone() override;

 private:
  class Waiter;
  Executor& executor_;
  TaskSubscription subscription_;
  std::shared_ptr<Waiter> waiter_;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_TASK_CALLS_H_
