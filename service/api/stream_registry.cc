#include "service/api/stream_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace qwenimage::api {

bool StreamRegistry::Add(std::shared_ptr<Drainable> call) {
  absl::MutexLock lock(&mu_);
  if (draining_) return false;
  calls_.emplace(std::move(call), Entry{});
  return true;
}

absl::Status StreamRegistry::AddStream(std::shared_ptr<Drainable> call,
                                       const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  if (draining_) return absl::UnavailableError("the server is shutting down");
  auto it = streams_per_tenant_.find(tenant);
  const int open = it == streams_per_tenant_.end() ? 0 : it->second;
  if (max_streams_per_tenant_ > 0 && open >= max_streams_per_tenant_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tenant ", tenant, " already has ", open,
                     " task streams open (WatchTask, GenerateImagesStream; at most ",
                     max_streams_per_tenant_, "); close one or retry later"));
  }
  if (calls_.emplace(std::move(call), Entry{true, tenant}).second) ++streams_per_tenant_[tenant];
  return absl::OkStatus();
}

void StreamRegistry::Remove(const std::shared_ptr<Drainable>& call) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  if (it->second.counted) {
    auto count = streams_per_tenant_.find(it->second.tenant);
    if (count != streams_per_tenant_.end() && --count->second <= 0) {
      streams_per_tenant_.erase(count);
    }
  }
  calls_.erase(it);
}

void StreamRegistry::DrainAll(const std::string& reason) {
  std::vector<std::shared_ptr<Drainable>> calls;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    calls.reserve(calls_.size());
    for (const auto& [call, tenant] : calls_) calls.push_back(call);
  }
  for (const auto& call : calls) call->Drain(reason);
}

size_t StreamRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return calls_.size();
}

int StreamRegistry::StreamsOf(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = streams_per_tenant_.find(tenant);
  return it == streams_per_tenant_.end() ? 0 : it->second;
}

}  // namespace qwenimage::api
