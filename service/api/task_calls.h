// The long-lived calls on a task: TaskStream (WatchTask, GenerateImagesStream) and WaitCall
// (GenerateImages). Both watch the task through the TaskManager and end on its terminal state.
#ifndef QWENIMAGE_SERVICE_API_TASK_CALLS_H_
#define QWENIMAGE_SERVICE_API_TASK_CALLS_H_

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
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

// Server side of a task stream (of serialized v1::TaskEvent messages: the methods are raw so
// that request decoding errors can name fields). Deletes itself when the RPC is done.
class TaskStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit TaskStream(const CallContext& ctx);
  // Streams `task_id` of `tenant`; a failed lookup ends the RPC with that error.
  void Start(const std::string& tenant, const std::string& task_id);
  void FinishWith(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Sink;
  const CallContext ctx_;
  std::shared_ptr<Sink> sink_;
  std::string task_id_;
  uint64_t token_ = 0;
};

// Server side of GenerateImages: finishes when the task ends, with the serialized v1::Task.
class WaitCall final : public grpc::ServerUnaryReactor {
 public:
  WaitCall(const CallContext& ctx, grpc::ByteBuffer* response);
  void Start(const std::string& tenant, const std::string& task_id);
  void FinishWith(const grpc::Status& status);

  void OnCancel() override;
  void OnDone() override;

 private:
  class Waiter;
  const CallContext ctx_;
  std::shared_ptr<Waiter> waiter_;
  std::string task_id_;
  uint64_t token_ = 0;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_TASK_CALLS_H_
