// ImageServiceImpl: the qwenimage.v1.ImageService handlers on gRPC's callback API. Validates
// input, authenticates the caller (auth::Authenticator), and hands the work to the
// TaskManager; never blocks on upstream.
#ifndef QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_
#define QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_

#include <cstdint>

#include "absl/time/time.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/api/stream_registry.h"
#include "service/api/task_calls.h"
#include "service/auth/authenticator.h"
#include "service/auth/principal.h"
#include "service/common/executor.h"
#include "service/dashscope/catalog.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::api {

// The methods that carry user text or stream tasks are raw (ByteBuffer) so that request
// decoding happens here, with errors that name the offending field (request_codec.h).
using ImageServiceBase = v1::ImageService::WithRawCallbackMethod_GenerateImages<
    v1::ImageService::WithRawCallbackMethod_CreateTask<
        v1::ImageService::WithRawCallbackMethod_WatchTask<
            v1::ImageService::WithRawCallbackMethod_GenerateImagesStream<
                v1::ImageService::CallbackService>>>>;

// The largest request each method accepts (ServerLimits: --max_receive_message_bytes and
// --max_create_message_bytes); a larger one is RESOURCE_EXHAUSTED. gRPC itself refuses anything
// over the larger of the two before a handler runs.
struct RequestLimits {
  int64_t max_request_bytes = 4 << 20;
  // CreateTask, GenerateImages, GenerateImagesStream (input images ride in them).
  int64_t max_create_request_bytes = 32 << 20;
};

class ImageServiceImpl final : public ImageServiceBase {
 public:
  // `authenticator` resolves every call's Principal and must outlive this.
  // `max_streams_per_tenant` bounds each tenant's open task streams (WatchTask,
  // GenerateImagesStream; RESOURCE_EXHAUSTED beyond); 0 = unlimited.
  ImageServiceImpl(const dashscope::ModelCatalog& catalog,
                   const auth::Authenticator& authenticator, tasks::TaskManager& manager,
                   Executor& executor, absl::Duration heartbeat_interval,
                   int max_streams_per_tenant = 0, RequestLimits request_limits = {});

  // Refuses new work and tells every open stream to reconnect.
  void Drain();
  size_t open_streams() const { return registry_.size(); }

  grpc::ServerUnaryReactor* GenerateImages(grpc::CallbackServerContext* ctx,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreateTask(grpc::CallbackServerContext* ctx,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* ctx,
                                    const v1::GetTaskRequest* request,
                                    v1::Task* response) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* ctx,
                                      const v1::ListTasksRequest* request,
                                      v1::ListTasksResponse* response) override;
  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* ctx,
                                       const v1::CancelTaskRequest* request,
                                       v1::Task* response) override;
  grpc::ServerUnaryReactor* DeleteTask(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteTaskRequest* request,
                                       v1::DeleteTaskResponse* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchTask(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* GenerateImagesStream(
      grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerWriteReactor<v1::ReadImageResponse>* ReadImage(
      grpc::CallbackServerContext* ctx, const v1::ReadImageRequest* request) override;

 private:
  // Decodes, validates and creates; on error returns a non-OK status. `Request` is one of the
  // three create requests (request_id + spec). With a `stream`, takes one of the tenant's
  // stream slots first (TaskStream::Admit). Blocking (the store): on the executor.
  template <typename Request>
  grpc::Status CreateFrom(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer& bytes,
                          std::string* tenant, v1::Task* task, TaskStream* stream = nullptr);

  // The caller's Principal; UNAUTHENTICATED (or INVALID_ARGUMENT for a malformed tenant
  // header with --auth=none) otherwise.
  grpc::Status Authenticate(const grpc::CallbackServerContext* ctx,
                            auth::Principal* principal) const;

  const dashscope::ModelCatalog& catalog_;
  const RequestLimits request_limits_;
  const auth::Authenticator& authenticator_;
  tasks::TaskManager& manager_;
  StreamRegistry registry_;
  const CallContext call_context_;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_
