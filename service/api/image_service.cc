#include "service/api/image_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/api/request_codec.h"
#include "service/api/request_validation.h"
#include "service/api/status.h"
#include "service/auth/grpc_credentials.h"
#include "service/store/page_token.h"
#include "service/tasks/convert.h"

namespace qwenimage::api {
namespace {

constexpr size_t kImageChunkBytes = 64 * 1024;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Streams one image in chunks, metadata first. Deletes itself when done.
class ImageReader final : public grpc::ServerWriteReactor<v1::ReadImageResponse> {
 public:
  explicit ImageReader(const grpc::Status& error) { Finish(error); }
  ImageReader(absl::StatusOr<std::string> bytes, v1::Image metadata)
      : bytes_(std::move(bytes)) {
    if (!bytes_.ok()) {
      Finish(ToGrpcStatus(bytes_.status()));
      return;
    }
    *message_.mutable_metadata() = std::move(metadata);
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    message_.clear_metadata();
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (offset_ >= bytes_->size() && offset_ > 0) {
      Finish(grpc::Status::OK);
      return;
    }
    size_t n = std::min(kImageChunkBytes, bytes_->size() - offset_);
    message_.set_data(bytes_->substr(offset_, n));
    offset_ += n;
    if (n == 0) offset_ = 1;  // an empty image still gets its metadata message
    StartWrite(&message_);
  }

  absl::StatusOr<std::string> bytes_ = std::string();
  v1::ReadImageResponse message_;
  size_t offset_ = 0;
};

}  // namespace

ImageServiceImpl::ImageServiceImpl(const dashscope::ModelCatalog& catalog,
                                   const auth::Authenticator& authenticator,
                                   tasks::TaskManager& manager, Executor& executor,
                                   absl::Duration heartbeat_interval)
    : catalog_(catalog),
      authenticator_(authenticator),
      manager_(manager),
      call_context_{manager, registry_, executor, heartbeat_interval} {}

grpc::Status ImageServiceImpl::Authenticate(const grpc::CallbackServerContext* ctx,
                                            auth::Principal* principal) const {
  absl::StatusOr<auth::Principal> resolved = auth::Authenticate(authenticator_, *ctx);
  if (resolved.ok()) {
    *principal = *std::move(resolved);
    return grpc::Status::OK;
  }
  // The one malformed-input case (--auth=none, a bad tenant header) names its field.
  if (resolved.status().code() == absl::StatusCode::kInvalidArgument) {
    return InvalidArgument(auth::kTenantHeader, auth::kTenantRule);
  }
  return ToGrpcStatus(resolved.status());
}

void ImageServiceImpl::Drain() { registry_.DrainAll("the server is shutting down; reconnect"); }

template <typename Request>
grpc::Status ImageServiceImpl::CreateFrom(grpc::CallbackServerContext* ctx,
                                          const grpc::ByteBuffer& bytes, std::string* tenant,
                                          v1::Task* task) {
  Request request;
  if (grpc::Status s = DecodeRequest(bytes, &request); !s.ok()) return s;
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return s;
  *tenant = principal.tenant;
  dashscope::GenerationParams params;
  grpc::Status valid = ValidateCreate(catalog_, request.request_id(),
                                      request.has_spec() ? &request.spec() : nullptr, &params);
  if (!valid.ok()) return valid;
  absl::StatusOr<v1::Task> created = manager_.Create(*tenant, request.request_id(), params);
  if (!created.ok()) return ToGrpcStatus(created.status());
  *task = *std::move(created);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* ImageServiceImpl::GenerateImages(grpc::CallbackServerContext* ctx,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  std::string tenant;
  v1::Task task;
  grpc::Status s = CreateFrom<v1::GenerateImagesRequest>(ctx, *request, &tenant, &task);
  auto* call = new WaitCall(call_context_, response);
  if (!s.ok()) {
    call->FinishWith(s);
  } else {
    call->Start(tenant, task.id());
  }
  return call;
}

grpc::ServerUnaryReactor* ImageServiceImpl::CreateTask(grpc::CallbackServerContext* ctx,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  std::string tenant;
  v1::Task task;
  grpc::Status s = CreateFrom<v1::CreateTaskRequest>(ctx, *request, &tenant, &task);
  if (s.ok()) EncodeMessage(task, response);
  return Done(ctx, s);
}

grpc::ServerUnaryReactor* ImageServiceImpl::GetTask(grpc::CallbackServerContext* ctx,
                                                    const v1::GetTaskRequest* request,
                                                    v1::Task* response) {
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  if (grpc::Status s = ValidateTaskId(request->task_id()); !s.ok()) return Done(ctx, s);
  absl::StatusOr<v1::Task> task = manager_.Get(principal.tenant, request->task_id());
  if (!task.ok()) return Done(ctx, ToGrpcStatus(task.status()));
  *response = *std::move(task);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ImageServiceImpl::ListTasks(grpc::CallbackServerContext* ctx,
                                                      const v1::ListTasksRequest* request,
                                                      v1::ListTasksResponse* response) {
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  store::ListQuery query;
  std::string fingerprint;
  if (grpc::Status s = ToListQuery(principal.tenant, *request, &query, &fingerprint); !s.ok()) {
    return Done(ctx, s);
  }
  absl::StatusOr<tasks::ListResult> result = manager_.List(query);
  if (!result.ok()) return Done(ctx, ToGrpcStatus(result.status()));
  for (v1::Task& task : result->tasks) *response->add_tasks() = std::move(task);
  if (result->next.has_value()) {
    response->set_next_page_token(store::EncodePageToken(*result->next, fingerprint));
  }
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ImageServiceImpl::CancelTask(grpc::CallbackServerContext* ctx,
                                                       const v1::CancelTaskRequest* request,
                                                       v1::Task* response) {
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  if (grpc::Status s = ValidateTaskId(request->task_id()); !s.ok()) return Done(ctx, s);
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  manager_.Cancel(principal.tenant, request->task_id(),
                  [reactor, response](absl::StatusOr<v1::Task> task) {
                    if (!task.ok()) {
                      reactor->Finish(ToGrpcStatus(task.status()));
                      return;
                    }
                    *response = *std::move(task);
                    reactor->Finish(grpc::Status::OK);
                  });
  return reactor;
}

grpc::ServerUnaryReactor* ImageServiceImpl::DeleteTask(grpc::CallbackServerContext* ctx,
                                                       const v1::DeleteTaskRequest* request,
                                                       v1::DeleteTaskResponse* response) {
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  if (grpc::Status s = ValidateTaskId(request->task_id()); !s.ok()) return Done(ctx, s);
  return Done(ctx, ToGrpcStatus(manager_.Delete(principal.tenant, request->task_id())));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ImageServiceImpl::WatchTask(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* bytes) {
  auto* stream = new TaskStream(call_context_);
  v1::WatchTaskRequest request;
  auth::Principal principal;
  grpc::Status s = DecodeRequest(*bytes, &request);
  if (s.ok()) s = Authenticate(ctx, &principal);
  if (s.ok()) s = ValidateTaskId(request.task_id());
  if (!s.ok()) {
    stream->FinishWith(s);
  } else {
    stream->Start(principal.tenant, request.task_id());
  }
  return stream;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ImageServiceImpl::GenerateImagesStream(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request) {
  auto* stream = new TaskStream(call_context_);
  std::string tenant;
  v1::Task task;
  grpc::Status s = CreateFrom<v1::GenerateImagesStreamRequest>(ctx, *request, &tenant, &task);
  if (!s.ok()) {
    stream->FinishWith(s);
  } else {
    stream->Start(tenant, task.id());
  }
  return stream;
}

grpc::ServerUnaryReactor* ImageServiceImpl::ListModels(grpc::CallbackServerContext* ctx,
                                                       const v1::ListModelsRequest* request,
                                                       v1::ListModelsResponse* response) {
  auth::Principal principal;  // the catalog and queue lengths are for callers too
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  for (const dashscope::ModelInfo& info : catalog_.models()) {
    v1::Model* model = response->add_models();
    tasks::ToProto(info, model);
    model->set_queued_tasks(manager_.QueuedCount(info.name));
    model->set_running_tasks(manager_.RunningCount(info.name));
  }
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerWriteReactor<v1::ReadImageResponse>* ImageServiceImpl::ReadImage(
    grpc::CallbackServerContext* ctx, const v1::ReadImageRequest* request) {
  auth::Principal principal;
  grpc::Status s = Authenticate(ctx, &principal);
  if (s.ok()) s = ValidateTaskId(request->task_id());
  if (s.ok() && request->index() < 0) s = InvalidArgument("index", "must be 0 or more");
  if (!s.ok()) {
    return new ImageReader(s);
  }
  v1::Image metadata;
  absl::StatusOr<std::string> bytes =
      manager_.ReadImage(principal.tenant, request->task_id(), request->index(), &metadata);
  return new ImageReader(std::move(bytes), std::move(metadata));
}

}  // namespace qwenimage::api
