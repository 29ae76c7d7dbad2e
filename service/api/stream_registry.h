// StreamRegistry: every open long-lived call (watch streams, waiting GenerateImages), so that a
// draining server can tell each one to reconnect instead of cutting it; it also bounds the task
// streams (WatchTask, GenerateImagesStream) one tenant may hold open.
#ifndef QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_
#define QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace qwenimage::api {

class Drainable {
 public:
  virtual ~Drainable() = default;
  // Ends the call promptly, telling the client why; must not block.
  virtual void Drain(const std::string& reason) = 0;
};

class StreamRegistry {
 public:
  // `max_streams_per_tenant` bounds the calls added with AddStream per tenant; 0 = unlimited.
  explicit StreamRegistry(int max_streams_per_tenant = 0)
      : max_streams_per_tenant_(max_streams_per_tenant) {}

  // False once draining: the caller must end its call at once.
  bool Add(std::shared_ptr<Drainable> call);
  // Add, counted against `tenant`'s task streams: UNAVAILABLE once draining (end the call at
  // once), RESOURCE_EXHAUSTED when the tenant already holds max_streams_per_tenant.
  absl::Status AddStream(std::shared_ptr<Drainable> call, const std::string& tenant);
  // Undoes Add or AddStream; a call that was never added is ignored.
  void Remove(const std::shared_ptr<Drainable>& call);
  void DrainAll(const std::string& reason);
  size_t size() const;
  // Task streams `tenant` holds open.
  int StreamsOf(const std::string& tenant) const;

 private:
  const int max_streams_per_tenant_;
  mutable absl::Mutex mu_;
  struct Entry {
    bool counted = false;  // AddStream: one of `tenant`'s streams
    std::string tenant;
  };
  absl::flat_hash_map<std::shared_ptr<Drainable>, Entry> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> streams_per_tenant_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_
