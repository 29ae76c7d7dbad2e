#include "service/api/health_service.h"

#include <vector>

#include "absl/status/status.h"
#include "service/api/status.h"

namespace qwenimage::api {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream: writes the latest status whenever it differs from the last one written.
class HealthServiceImpl::Watcher final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthServiceImpl* service, std::string name) : service_(service), name_(std::move(name)) {}

  void Update(ServingStatus status) {
    absl::MutexLock lock(&mu_);
    latest_ = status;
    WriteLocked();
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (ok) WriteLocked();
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(grpc::Status::CANCELLED);
    }
  }
  void OnDone() override {
    service_->RemoveWatcher(this);
    delete this;
  }
  void Shutdown() {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(ToGrpcStatus(absl::UnavailableError("server shutting down")));
    }
  }
  const std::string& name() const { return name_; }

 private:
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || latest_ == written_) return;
    written_ = latest_;
    response_.set_status(latest_);
    writing_ = true;
    StartWrite(&response_);
  }

  HealthServiceImpl* const service_;
  const std::string name_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  ServingStatus latest_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  int written_ ABSL_GUARDED_BY(mu_) = -1;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

HealthServiceImpl::HealthServiceImpl() {
  statuses_[""] = HealthCheckResponse::NOT_SERVING;
  statuses_[kImageService] = HealthCheckResponse::NOT_SERVING;
}

void HealthServiceImpl::EndWatches() {
  absl::MutexLock lock(&mu_);
  for (Watcher* w : watchers_) w->Shutdown();
}

void HealthServiceImpl::SetAll(ServingStatus status) {
  // Updating under mu_ keeps each watcher alive (OnDone needs mu_ to unregister before it
  // deletes itself). Update only queues a write; gRPC runs the reaction on its own thread.
  absl::MutexLock lock(&mu_);
  for (auto& [name, s] : statuses_) s = status;
  for (Watcher* w : watchers_) w->Update(StatusOfLocked(w->name()));
}

void HealthServiceImpl::Set(const std::string& service, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  statuses_[service] = status;
  for (Watcher* w : watchers_) {
    if (w->name() == service) w->Update(status);
  }
}

void HealthServiceImpl::RemoveWatcher(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

HealthServiceImpl::ServingStatus HealthServiceImpl::StatusOf(const std::string& service) const {
  absl::MutexLock lock(&mu_);
  return StatusOfLocked(service);
}

HealthServiceImpl::ServingStatus HealthServiceImpl::StatusOfLocked(
    const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

grpc::ServerUnaryReactor* HealthServiceImpl::Check(grpc::CallbackServerContext* ctx,
                                                   const HealthCheckRequest* request,
                                                   HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(ToGrpcStatus(absl::NotFoundError("unknown service: " + request->service())));
    return reactor;
  }
  response->set_status(status);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthServiceImpl::Watch(
    grpc::CallbackServerContext* ctx, const HealthCheckRequest* request) {
  auto* watcher = new Watcher(this, request->service());
  absl::MutexLock lock(&mu_);
  watchers_.insert(watcher);
  watcher->Update(StatusOfLocked(request->service()));
  return watcher;
}

}  // namespace qwenimage::api
