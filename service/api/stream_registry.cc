#include "service/api/stream_registry.h"

namespace qwenimage::api {

bool StreamRegistry::Add(std::shared_ptr<Drainable> call) {
  absl::MutexLock lock(&mu_);
  if (draining_) return false;
  calls_.insert(std::move(call));
  return true;
}

void StreamRegistry::Remove(const std::shared_ptr<Drainable>& call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(call);
}

void StreamRegistry::DrainAll(const std::string& reason) {
  std::vector<std::shared_ptr<Drainable>> calls;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    calls.assign(calls_.begin(), calls_.end());
  }
  for (const auto& call : calls) call->Drain(reason);
}

size_t StreamRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return calls_.size();
}

}  // namespace qwenimage::api
