// Configuration of the DashScope simulator: every knob, with defaults suited to tests and the
// in-process --simulate mode, plus the parsers the dashscope-sim flags use.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_OPTIONS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_OPTIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::simulator {

// A task duration: fixed when min == max, otherwise drawn uniformly from [min, max].
struct DurationRange {
  absl::Duration min = absl::Milliseconds(200);
  absl::Duration max = absl::Milliseconds(600);
};

// Parses one non-negative absl duration ("40ms", "24h").
absl::StatusOr<absl::Duration> ParseNonNegativeDuration(absl::string_view text);

// Parses "3s" or "2s..8s" (any absl duration syntax on each side).
absl::StatusOr<DurationRange> ParseDurationRange(absl::string_view text);

// Per-endpoint fault probabilities, each in [0, 1]; drawn once per request, first match wins in
// field order (then `after` by status). Create-only kinds (moderation, task_fail, partial) are
// ignored elsewhere.
struct FaultRates {
  double internal_error = 0;  // 500 InternalError
  double unavailable = 0;     // 503 ModelUnavailable
  double throttle = 0;        // 429 Throttling.RateQuota (bursts come from repeated draws)
  double malformed = 0;       // 200 with the JSON body cut in half
  double reset = 0;           // TCP RST instead of a reply
  double hang = 0;            // never answer
  double slow = 0;            // answer after slow_delay more
  double moderation = 0;      // 400 DataInspectionFailed at create
  double task_fail = 0;       // task (or sync call) ends FAILED with InternalError
  double partial = 0;         // one of n images fails (DataInspectionFailed)
  double drop = 0;            // close the connection without a reply (creates: no work done)
  // By HTTP status (408, 5xx): do the work, then answer that status with an HTML page.
  std::map<int, double> after;
  absl::Duration slow_delay = absl::Seconds(3);
  std::optional<int64_t> retry_after;  // seconds, sent as Retry-After on this endpoint's 429s
};

// Parses "generation:500=0.1,503=0.05,slow=0.2,slow_delay=2s;task_get:429=0.3;*:reset=0.01".
// Keys: 500 503 429 malformed reset hang slow slow_delay moderation task_fail partial drop
// <N>_after (N = 408 or 5xx, e.g. 502_after=0.1) retry_after (integer seconds). Endpoint names
// are those of /__stats; "*" applies to every endpoint without its own entry.
absl::StatusOr<std::map<std::string, FaultRates>> ParseFaults(absl::string_view text);

// Over-limit behaviour when a key already runs `running_limit` tasks of a model.
enum class OverLimit { kQueue, kReject };
absl::StatusOr<OverLimit> ParseOverLimit(absl::string_view text);

struct SimulatorOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = ephemeral
  std::string region = "singapore";    // the host this instance impersonates: singapore|beijing
  // Entries "key" (this region) or "key@beijing" / "key@singapore".
  std::vector<std::string> api_keys = {"sk-simulator"};

  // Task durations (submit→end of RUNNING), default and per model, before time_scale.
  DurationRange task_duration;
  std::map<std::string, DurationRange> model_durations;
  // Time spent PENDING before a free slot is taken (real traces show ~40 ms).
  absl::Duration pending_delay = absl::Milliseconds(40);
  // Multiplies every simulated duration (task, pending, retention, image expiry); 0.01 = 100x faster.
  double time_scale = 1.0;
  absl::Duration task_ttl = absl::Hours(24);   // task retention, then UNKNOWN
  absl::Duration image_ttl = absl::Hours(24);  // image URL validity

  // Account limits (per API key, per model); all off unless `limits`.
  bool limits = false;
  std::map<std::string, double> submit_rate = {{"qwen-image", 2}, {"qwen-image-plus", 2}};
  double default_submit_rate = 0;  // per second for other models; 0 = unlimited
  int running_limit = 2;           // per model unless overridden below; 0 = unlimited
  std::map<std::string, int> model_running_limit;
  OverLimit async_over_limit = OverLimit::kQueue;   // queue = stay PENDING
  OverLimit sync_over_limit = OverLimit::kReject;   // reject = 429 Throttling.Concurrency
  double task_api_qps = 20;  // shared by GET task, list, cancel; 0 = unlimited

  std::map<std::string, FaultRates> faults;  // by endpoint name, "*" = default
  uint64_t random_seed = 0;                  // 0 = seed from the OS
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_OPTIONS_H_
