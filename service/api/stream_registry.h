// StreamRegistry: every open long-lived call (watch streams, waiting GenerateImages), so that a
// draining server can tell each one to reconnect instead of cutting it.
#ifndef QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_
#define QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
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
  // False once draining: the caller must end its call at once.
  bool Add(std::shared_ptr<Drainable> call);
  void Remove(const std::shared_ptr<Drainable>& call);
  void DrainAll(const std::string& reason);
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<Drainable>> calls_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_STREAM_REGISTRY_H_
