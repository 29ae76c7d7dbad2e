// Counters behind GET /__stats: requests by endpoint and HTTP status, creates, 429s, and current
// and peak running tasks per model. Loop-thread only, like all simulator state.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_STATS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace qwenimage::simulator {

class Stats {
 public:
  // `status` is the HTTP status, or a pseudo status "reset" / "hang" for delivery faults.
  void CountRequest(absl::string_view endpoint, absl::string_view status);
  void CountAsyncCreate() { ++async_creates_; }
  void CountSyncGeneration() { ++sync_generations_; }
  // A sync request with image items (an edit), before its inputs are checked.
  void CountEdit(int input_images) {
    ++edit_calls_;
    input_images_ += input_images;
  }
  void RunningChanged(const std::string& model, int delta);

  // Clears counters and peaks (peaks restart from the current running counts).
  void Reset();

  // `tasks_by_state` is supplied by the task engine (live async tasks by status).
  std::string ToJson(const std::map<std::string, int64_t>& tasks_by_state) const;

 private:
  std::map<std::string, std::map<std::string, int64_t>> requests_;  // endpoint → status → count
  int64_t async_creates_ = 0;
  int64_t sync_generations_ = 0;
  int64_t throttled_ = 0;
  int64_t edit_calls_ = 0;
  int64_t input_images_ = 0;
  std::map<std::string, int64_t> running_;       // model → running now (async + sync)
  std::map<std::string, int64_t> peak_running_;  // model → peak since reset
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_STATS_H_
