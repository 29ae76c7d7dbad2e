// The transport of classified DashScope failures (failure.h) inside absl::Status, so that the
// upstream code, request id and verdict survive every layer; and Retry-After parsing.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// Wraps `error` in a status whose code is error.status_code (what the gateway's caller is told);
// the message is "<code>: <message>".
absl::Status UpstreamErrorStatus(const UpstreamError& error);

// The UpstreamError inside a status made by UpstreamErrorStatus, if any.
std::optional<UpstreamError> GetUpstreamError(const absl::Status& status);

// Parses a Retry-After header: delta-seconds or an HTTP-date (relative to `now`). nullopt if
// absent or malformed; a date in the past yields zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_
