// Time formats of the DashScope wire protocol: task times as "YYYY-MM-DD HH:MM:SS.mmm" and list
// query bounds as "YYYYMMDDhhmmss", both zone-less local times of the upstream region.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_TIME_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_TIME_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::dashscope {

// UTC+8. Recorded Beijing traffic proves it; Singapore is assumed to be the same (its zone is
// undocumented, and Singapore local time is UTC+8 as well).
absl::TimeZone UpstreamTimeZone();

// Parses a task time ("2025-09-09 11:38:54.741"; fraction optional). nullopt if malformed.
std::optional<absl::Time> ParseTaskTime(absl::string_view text);

// Formats a batch-list query bound ("20250909113854").
std::string FormatListQueryTime(absl::Time time);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_TIME_H_
