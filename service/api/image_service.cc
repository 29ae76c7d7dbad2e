#include "service/api/image_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/api/request_codec.h"
#include "service/api/request_validation.h"
#include "service/api/status.h"
#include "service/auth/grpc_credentials.h"
#include "service/tasks/convert.h"

namespace qwenimage::api {
namespace {

constexpr size_t kImageChunkBytes = 64 * 1024;

// RESOURCE_EXHAUSTED for a request over its method's limit (RequestLimits).
grpc::Status CheckRequestSize(size_t bytes, int64_t limit, absl::string_view flag) {
  if (static_cast<int64_t>(bytes) <= limit) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("the request is ", bytes, " bytes; this method accepts at most ",
                                   limit, " (--", flag, ")"));
}

grpc::Status CheckSmallRequest(const google::protobuf::Message& request,
                               const RequestLimits& limits) {
  return CheckRequestSize(request.ByteSizeLong(), limits.max_request_bytes,
                          "max_receive_message_bytes");
}

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Runs `work` (which may read the store or the disk) on the executor, never on the gRPC
// reaction thread, and finishes the call with its status. The request and response stay valid
// until Finish.
template <typename Work>
grpc::ServerUnaryReactor* OnExecutor(grpc::CallbackServerContext* ctx, Executor& executor,
                                     Work work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  executor.Run([reactor, work = std::move(work)]() mutable { reactor->Finish(work()); });
  return reactor;
}

// ReadImage's server side: opens the image and reads it on the executor (never a store call
// on a gRPC reaction thread), writing it a chunk at a time, metadata first. The next chunk is
// read only once the previous one was written (OnWriteDone), so a call holds one chunk: a
// client that stops reading costs its flow-control window plus that chunk, not the image.
//
// Lifetime: exactly one step is outstanding at any time, either an executor task (open, read)
// or a write, and Finish is called only as a step's last use of `this`; so OnDone, which
// deletes, never runs while an executor task may still touch the reactor.
class ReadImageCall final : public grpc::ServerWriteReactor<v1::ReadImageResponse> {
 public:
  ReadImageCall(tasks::TaskManager& manager, Executor& executor)
      : manager_(manager), executor_(executor) {}

  void Start(std::string tenant, std::string task_id, int index) {
    executor_.Run([this, tenant = std::move(tenant), task_id = std::move(task_id), index] {
      absl::StatusOr<tasks::ImageStream> image = manager_.OpenImage(tenant, task_id, index);
      if (!image.ok()) {
        Finish(ToGrpcStatus(image.status()));
        return;
      }
      reader_ = std::move(image->reader);
      remaining_ = reader_->size();
      *message_.mutable_metadata() = std::move(image->metadata);
      ReadAndWrite();
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the client is gone
      Finish(ToGrpcStatus(absl::CancelledError("the client went away")));
      return;
    }
    message_.clear_metadata();
    message_.clear_data();
    if (remaining_ <= 0) {
      Finish(grpc::Status::OK);
      return;
    }
    executor_.Run([this] { ReadAndWrite(); });
  }

  void OnDone() override { delete this; }

 private:
  // On the executor: the next chunk, then its write (an empty image still gets its metadata).
  void ReadAndWrite() {
    absl::StatusOr<std::string> chunk = reader_->Read(kImageChunkBytes);
    if (!chunk.ok()) {
      Finish(ToGrpcStatus(chunk.status()));
      return;
    }
    if (chunk->empty()) {
      remaining_ = 0;  // shorter than its size said: end with what was sent
      if (!message_.has_metadata()) {
        Finish(grpc::Status::OK);
        return;
      }
    }
    remaining_ -= static_cast<int64_t>(chunk->size());
    message_.set_data(*std::move(chunk));
    StartWrite(&message_);
  }

  tasks::TaskManager& manager_;
  Executor& executor_;
  std::unique_ptr<store::ImageReader> reader_;
  int64_t remaining_ = 0;  // bytes not read yet
  v1::ReadImageResponse message_;
};

}  // namespace

ImageServiceImpl::ImageServiceImpl(const dashscope::ModelCatalog& catalog,
                                   const auth::Authenticator& authenticator,
                                   tasks::TaskManager& manager, Executor& executor,
                                   absl::Duration heartbeat_interval,
                                   int max_streams_per_tenant, RequestLimits request_limits)
    : catalog_(catalog),
      request_limits_(request_limits),
      authenticator_(authenticator),
      manager_(manager),
      registry_(max_streams_per_tenant),
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
                                          v1::Task* task, TaskStream* stream) {
  if (grpc::Status s = CheckRequestSize(bytes.Length(), request_limits_.max_create_request_bytes,
                                        "max_create_message_bytes");
      !s.ok()) {
    return s;
  }
  Request request;
  if (grpc::Status s = DecodeRequest(bytes, &request); !s.ok()) return s;
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return s;
  *tenant = principal.tenant;
  dashscope::GenerationParams params;
  std::vector<v1::InputImage> inputs;
  grpc::Status valid =
      ValidateCreate(catalog_, request.request_id(),
                     request.has_spec() ? request.mutable_spec() : nullptr, &params, &inputs);
  if (!valid.ok()) return valid;
  // A stream's slot is taken before the task exists: a refused stream creates nothing.
  if (stream != nullptr) {
    if (grpc::Status s = stream->Admit(*tenant); !s.ok()) return s;
  }
  absl::StatusOr<v1::Task> created =
      manager_.Create(*tenant, principal.quotas, request.request_id(), params, std::move(inputs));
  if (!created.ok()) return ToGrpcStatus(created.status());
  *task = *std::move(created);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* ImageServiceImpl::GenerateImages(grpc::CallbackServerContext* ctx,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  auto* call = new WaitCall(call_context_, response);
  // The create writes the store: on the executor.
  call->RunOnExecutor([this, ctx, request, call] {
    std::string tenant;
    v1::Task task;
    grpc::Status s = CreateFrom<v1::GenerateImagesRequest>(ctx, *request, &tenant, &task);
    if (!s.ok()) {
      call->FinishWith(s);
    } else {
      call->Start(tenant, task.id());
    }
  });
  return call;
}

grpc::ServerUnaryReactor* ImageServiceImpl::CreateTask(grpc::CallbackServerContext* ctx,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return OnExecutor(ctx, call_context_.executor, [this, ctx, request, response] {
    std::string tenant;
    v1::Task task;
    grpc::Status s = CreateFrom<v1::CreateTaskRequest>(ctx, *request, &tenant, &task);
    if (s.ok()) EncodeMessage(task, response);
    return s;
  });
}

grpc::ServerUnaryReactor* ImageServiceImpl::GetTask(grpc::CallbackServerContext* ctx,
                                                    const v1::GetTaskRequest* request,
                                                    v1::Task* response) {
  if (grpc::Status s = CheckSmallRequest(*request, request_limits_); !s.ok()) {
    return Done(ctx, s);
  }
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  if (grpc::Status s = ValidateTaskId(request->task_id()); !s.ok()) return Done(ctx, s);
  // A task in memory (running here, or finished recently) is answered at once: no store call,
  // nothing that blocks. Only a store read goes to the executor.
  if (std::optional<absl::StatusOr<v1::Task>> task =
          manager_.GetFromMemory(principal.tenant, request->task_id())) {
    if (!task->ok()) return Done(ctx, ToGrpcStatus(task->status()));
    *response = **std::move(task);
    return Done(ctx, grpc::Status::OK);
  }
  return OnExecutor(ctx, call_context_.executor,
                    [this, tenant = std::move(principal.tenant), request, response] {
    absl::StatusOr<v1::Task> task = manager_.Get(tenant, request->task_id());
    if (!task.ok()) return ToGrpcStatus(task.status());
    *response = *std::move(task);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ImageServiceImpl::ListTasks(grpc::CallbackServerContext* ctx,
                                                      const v1::ListTasksRequest* request,
                                                      v1::ListTasksResponse* response) {
  if (grpc::Status s = CheckSmallRequest(*request, request_limits_); !s.ok()) {
    return Done(ctx, s);
  }
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  tasks::ListRequest list;
  if (grpc::Status s = ToListRequest(principal.tenant, *request, &list); !s.ok()) return Done(ctx, s);
  return OnExecutor(ctx, call_context_.executor, [this, list = std::move(list), response] {
    absl::StatusOr<tasks::ListPage> page = manager_.List(list);
    if (!page.ok()) return ToGrpcStatus(page.status());
    for (v1::Task& task : page->tasks) *response->add_tasks() = std::move(task);
    response->set_next_page_token(std::move(page->next_page_token));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ImageServiceImpl::CancelTask(grpc::CallbackServerContext* ctx,
                                                       const v1::CancelTaskRequest* request,
                                                       v1::Task* response) {
  if (grpc::Status s = CheckSmallRequest(*request, request_limits_); !s.ok()) {
    return Done(ctx, s);
  }
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
  if (grpc::Status s = CheckSmallRequest(*request, request_limits_); !s.ok()) {
    return Done(ctx, s);
  }
  auth::Principal principal;
  if (grpc::Status s = Authenticate(ctx, &principal); !s.ok()) return Done(ctx, s);
  if (grpc::Status s = ValidateTaskId(request->task_id()); !s.ok()) return Done(ctx, s);
  return OnExecutor(ctx, call_context_.executor,
                    [this, tenant = std::move(principal.tenant), request] {
    return ToGrpcStatus(manager_.Delete(tenant, request->task_id()));
  });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ImageServiceImpl::WatchTask(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* bytes) {
  auto* stream = new TaskStream(call_context_);
  v1::WatchTaskRequest request;
  auth::Principal principal;
  grpc::Status s = CheckRequestSize(bytes->Length(), request_limits_.max_request_bytes,
                                    "max_receive_message_bytes");
  if (s.ok()) s = DecodeRequest(*bytes, &request);
  if (s.ok()) s = Authenticate(ctx, &principal);
  if (s.ok()) s = ValidateTaskId(request.task_id());
  if (!s.ok()) {
    stream->FinishWith(s);
  } else {
    // A finished task is looked up in the store: on the executor.
    stream->RunOnExecutor([stream, tenant = std::move(principal.tenant),
                           task_id = request.task_id()] { stream->Start(tenant, task_id); });
  }
  return stream;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ImageServiceImpl::GenerateImagesStream(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request) {
  auto* stream = new TaskStream(call_context_);
  stream->RunOnExecutor([this, ctx, request, stream] {
    std::string tenant;
    v1::Task task;
    grpc::Status s =
        CreateFrom<v1::GenerateImagesStreamRequest>(ctx, *request, &tenant, &task, stream);
    if (!s.ok()) {
      stream->FinishWith(s);
    } else {
      stream->Start(tenant, task.id());
    }
  });
  return stream;
}

grpc::ServerUnaryReactor* ImageServiceImpl::ListModels(grpc::CallbackServerContext* ctx,
                                                       const v1::ListModelsRequest* request,
                                                       v1::ListModelsResponse* response) {
  if (grpc::Status s = CheckSmallRequest(*request, request_limits_); !s.ok()) {
    return Done(ctx, s);
  }
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
  grpc::Status s = CheckSmallRequest(*request, request_limits_);
  if (s.ok()) s = Authenticate(ctx, &principal);
  if (s.ok()) s = ValidateTaskId(request->task_id());
  if (s.ok() && request->index() < 0) s = InvalidArgument("index", "must be 0 or more");
  auto* call = new ReadImageCall(manager_, call_context_.executor);
  if (!s.ok()) {
    call->Finish(s);
  } else {
    call->Start(std::move(principal.tenant), request->task_id(), request->index());
  }
  return call;
}

}  // namespace qwenimage::api
