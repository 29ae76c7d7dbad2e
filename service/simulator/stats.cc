// /__stats counters and their JSON rendering.
#include "service/simulator/stats.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace qwenimage::simulator {

void Stats::CountRequest(absl::string_view endpoint, absl::string_view status) {
  ++requests_[std::string(endpoint)][std::string(status)];
  if (status == "429") ++throttled_;
}

void Stats::RunningChanged(const std::string& model, int delta) {
  int64_t& now = running_[model];
  now += delta;
  int64_t& peak = peak_running_[model];
  peak = std::max(peak, now);
}

void Stats::Reset() {
  requests_.clear();
  async_creates_ = sync_generations_ = throttled_ = edit_calls_ = input_images_ = 0;
  peak_running_ = running_;
}

std::string Stats::ToJson(const std::map<std::string, int64_t>& tasks_by_state) const {
  nlohmann::json j = {
      {"requests", requests_},
      {"creates", {{"async", async_creates_}, {"sync", sync_generations_}}},
      {"tasks", tasks_by_state},
      {"running", running_},
      {"peak_running", peak_running_},
      {"throttled", throttled_},
      {"edits", {{"calls", edit_calls_}, {"input_images", input_images_}}},
  };
  return j.dump();
}

}  // namespace qwenimage::simulator
