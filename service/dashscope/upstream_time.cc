#include "service/dashscope/upstream_time.h"

namespace qwenimage::dashscope {

absl::TimeZone UpstreamTimeZone() { return absl::FixedTimeZone(8 * 60 * 60); }

std::optional<absl::Time> ParseTaskTime(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, UpstreamTimeZone(), &time, &error)) {
    return std::nullopt;
  }
  return time;
}

std::string FormatListQueryTime(absl::Time time) {
  return absl::FormatTime("%Y%m%d%H%M%S", time, UpstreamTimeZone());
}

}  // namespace qwenimage::dashscope
