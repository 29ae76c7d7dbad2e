// ImageServiceImpl: the qwenimage.v1.ImageService handlers on gRPC's callback API. Validates
// input, resolves the tenant, and hands the work to the TaskManager; never blocks on upstream.
#ifndef QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_
#define QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_

#include "absl/time/time.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/api/stream_registry.h"
#include "service/api/task_calls.h"
#include "service/common/executor.h"
#include "service/dashscope/catalog.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::api {

class ImageServiceImpl final : public v1::ImageService::CallbackService {
 public:
  ImageServiceImpl(const dashscope::ModelCatalog& catalog, tasks::TaskManager& manager,
                   Executor& executor, absl::Duration heartbeat_interval);

  // Refuses new work and tells every open stream to reconnect.
  void Drain();
  size_t open_streams() const { return registry_.size(); }

  grpc::ServerUnaryReactor* GenerateImages(grpc::CallbackServerContext* ctx,
                                           const v1::GenerateImagesRequest* request,
                                           v1::Task* response) override;
  grpc::ServerUnaryReactor* CreateTask(grpc::CallbackServerContext* ctx,
                                       const v1::CreateTaskRequest* request,
                                       v1::Task* response) override;
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
  grpc::ServerWriteReactor<v1::TaskEvent>* WatchTask(grpc::CallbackServerContext* ctx,
                                                     const v1::WatchTaskRequest* request) override;
  grpc::ServerWriteReactor<v1::TaskEvent>* GenerateImagesStream(
      grpc::CallbackServerContext* ctx,
      const v1::GenerateImagesStreamRequest* request) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerWriteReactor<v1::ReadImageResponse>* ReadImage(
      grpc::CallbackServerContext* ctx, const v1::ReadImageRequest* request) override;

 private:
  // Validates and creates; on error returns a non-OK status and leaves `task` untouched.
  grpc::Status CreateFrom(grpc::CallbackServerContext* ctx, const std::string& request_id,
                          const v1::GenerationSpec* spec, std::string* tenant, v1::Task* task);

  const dashscope::ModelCatalog& catalog_;
  tasks::TaskManager& manager_;
  StreamRegistry registry_;
  const CallContext call_context_;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_IMAGE_SERVICE_H_
