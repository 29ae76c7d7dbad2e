// Flag definitions of dashscope-sim; defaults are the realistic ones (15–30 s tasks), unlike the
// short SimulatorOptions defaults used in tests and --simulate.
#include "service/simulator/flags.h"

#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8089", "host:port to serve on (port 0 = ephemeral)");
ABSL_FLAG(std::string, region, "singapore",
          "region this instance impersonates: singapore|beijing (keys of the other region get 401)");
ABSL_FLAG(std::vector<std::string>, api_keys, {"sk-simulator"},
          "comma-separated accepted API keys; 'key@beijing' binds a key to another region");
ABSL_FLAG(std::string, limits, "off",
          "on|off: per-key account limits (submit rate, running tasks, task-API QPS)");
ABSL_FLAG(std::string, task_duration, "15s..30s",
          "task duration, fixed ('20s') or uniform range ('2s..8s'), before time_scale");
ABSL_FLAG(std::string, model_durations, "",
          "per-model durations, e.g. 'qwen-image-max=10s..20s,qwen-image=5s'");
ABSL_FLAG(std::string, pending_delay, "40ms", "time a task stays PENDING before taking a free slot");
ABSL_FLAG(double, time_scale, 1.0,
          "multiplies every simulated duration (tasks, pending, retention, image expiry); 0.1 = 10x faster");
ABSL_FLAG(std::string, task_ttl, "24h", "task retention; afterwards GET answers UNKNOWN");
ABSL_FLAG(std::string, image_ttl, "24h", "image URL validity; afterwards downloads get 404");
ABSL_FLAG(std::string, submit_rate, "qwen-image=2,qwen-image-plus=2",
          "with --limits=on: creates per second per key, per model ('model=rate,...')");
ABSL_FLAG(double, default_submit_rate, 0, "with --limits=on: submit rate of other models; 0 = unlimited");
ABSL_FLAG(int, running_limit, 2, "with --limits=on: running tasks per key per model; 0 = unlimited");
ABSL_FLAG(std::string, model_running_limit, "", "per-model running limits, e.g. 'qwen-image-max=1'");
ABSL_FLAG(std::string, async_over_limit, "queue",
          "async create beyond the running limit: queue (stays PENDING) | reject (429 Throttling.Concurrency)");
ABSL_FLAG(std::string, sync_over_limit, "reject",
          "sync call beyond the running limit: reject (429 Throttling.Concurrency) | queue (held longer)");
ABSL_FLAG(double, task_api_qps, 20, "with --limits=on: QPS per key shared by GET task, list, cancel");
ABSL_FLAG(std::string, faults, "",
          "fault probabilities per endpoint, e.g. 'generation:500=0.1,slow=0.2,slow_delay=5s;"
          "task_get:429=0.3,retry_after=60;image-synthesis:502_after=0.1,drop=0.05;*:reset=0.01'. "
          "Kinds: 500 503 429 malformed reset hang slow slow_delay moderation task_fail partial "
          "drop <N>_after (N = 408 or 5xx) retry_after (seconds, on that endpoint's 429s). "
          "Endpoints: generation image-synthesis task_get task_list task_cancel image *");
ABSL_FLAG(uint64_t, random_seed, 0, "seed for durations, ids and fault draws; 0 = random");

namespace qwenimage::simulator {
namespace {

template <typename T, typename Parse>
absl::StatusOr<std::map<std::string, T>> ParseModelMap(const std::string& text, Parse parse) {
  std::map<std::string, T> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    absl::StatusOr<T> v = parse(absl::StripAsciiWhitespace(kv.second));
    if (kv.first.empty() || !v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("bad 'model=value' entry '", item, "'"));
    }
    out[std::string(absl::StripAsciiWhitespace(kv.first))] = *v;
  }
  return out;
}

template <typename T>
absl::StatusOr<T> ParseNonNegative(absl::string_view text) {
  T value;
  bool ok;
  if constexpr (std::is_floating_point_v<T>) {
    ok = absl::SimpleAtod(text, &value);
  } else {
    ok = absl::SimpleAtoi(text, &value);
  }
  if (!ok || value < 0) return absl::InvalidArgumentError(absl::StrCat("bad number '", text, "'"));
  return value;
}

}  // namespace

absl::StatusOr<SimulatorOptions> OptionsFromFlags() {
  SimulatorOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.region = absl::GetFlag(FLAGS_region);
  o.api_keys = absl::GetFlag(FLAGS_api_keys);
  const std::string limits = absl::GetFlag(FLAGS_limits);
  if (limits != "on" && limits != "off") return absl::InvalidArgumentError("--limits must be on or off");
  o.limits = limits == "on";
  absl::StatusOr<DurationRange> range = ParseDurationRange(absl::GetFlag(FLAGS_task_duration));
  if (!range.ok()) return range.status();
  o.task_duration = *range;
  auto durations = ParseModelMap<DurationRange>(absl::GetFlag(FLAGS_model_durations),
                                                [](absl::string_view v) { return ParseDurationRange(v); });
  if (!durations.ok()) return durations.status();
  o.model_durations = *durations;
  const struct {
    const char* name;
    std::string text;
    absl::Duration* slot;
  } kDurationFlags[] = {
      {"pending_delay", absl::GetFlag(FLAGS_pending_delay), &o.pending_delay},
      {"task_ttl", absl::GetFlag(FLAGS_task_ttl), &o.task_ttl},
      {"image_ttl", absl::GetFlag(FLAGS_image_ttl), &o.image_ttl},
  };
  for (const auto& flag : kDurationFlags) {
    absl::StatusOr<absl::Duration> d = ParseNonNegativeDuration(flag.text);
    if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("--", flag.name, ": ", d.status().message()));
    *flag.slot = *d;
  }
  o.time_scale = absl::GetFlag(FLAGS_time_scale);
  auto rates = ParseModelMap<double>(absl::GetFlag(FLAGS_submit_rate), &ParseNonNegative<double>);
  if (!rates.ok()) return rates.status();
  o.submit_rate = *rates;
  o.default_submit_rate = absl::GetFlag(FLAGS_default_submit_rate);
  o.running_limit = absl::GetFlag(FLAGS_running_limit);
  auto running = ParseModelMap<int>(absl::GetFlag(FLAGS_model_running_limit), &ParseNonNegative<int>);
  if (!running.ok()) return running.status();
  o.model_running_limit = *running;
  absl::StatusOr<OverLimit> async_mode = ParseOverLimit(absl::GetFlag(FLAGS_async_over_limit));
  if (!async_mode.ok()) return async_mode.status();
  o.async_over_limit = *async_mode;
  absl::StatusOr<OverLimit> sync_mode = ParseOverLimit(absl::GetFlag(FLAGS_sync_over_limit));
  if (!sync_mode.ok()) return sync_mode.status();
  o.sync_over_limit = *sync_mode;
  o.task_api_qps = absl::GetFlag(FLAGS_task_api_qps);
  absl::StatusOr<std::map<std::string, FaultRates>> faults = ParseFaults(absl::GetFlag(FLAGS_faults));
  if (!faults.ok()) return faults.status();
  o.faults = *faults;
  o.random_seed = absl::GetFlag(FLAGS_random_seed);
  return o;
}

}  // namespace qwenimage::simulator
