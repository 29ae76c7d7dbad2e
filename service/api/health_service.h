// HealthServiceImpl: grpc.health.v1.Health for the whole server ("") and for
// qwenimage.v1.ImageService, with Watch streams told about every change.
#ifndef QWENIMAGE_SERVICE_API_HEALTH_SERVICE_H_
#define QWENIMAGE_SERVICE_API_HEALTH_SERVICE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace qwenimage::api {

class HealthServiceImpl final : public grpc::health::v1::Health::CallbackService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
  static constexpr char kImageService[] = "qwenimage.v1.ImageService";

  HealthServiceImpl();

  // Ends every Watch stream (UNAVAILABLE) so that server shutdown does not wait for them.
  void EndWatches();

  // Sets the status of the server and of every service at once.
  void SetAll(ServingStatus status);
  // Sets the status of one service ("" is the server as a whole).
  void Set(const std::string& service, ServingStatus status);

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class Watcher;
  ServingStatus StatusOf(const std::string& service) const;
  ServingStatus StatusOfLocked(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveWatcher(Watcher* watcher);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ServingStatus> statuses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_HEALTH_SERVICE_H_
