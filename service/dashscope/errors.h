// Classification of DashScope failures (dashscope-api.md §6) and their transport inside
// absl::Status, so that the upstream code and request id survive every layer.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// Classifies an HTTP error reply by status and body code.
UpstreamError::Kind ClassifyError(int http_status, absl::string_view code);

// Wraps `error` in a status: kThrottled → RESOURCE_EXHAUSTED, kRetryable → UNAVAILABLE,
// kOutcomeUnknown → DEADLINE_EXCEEDED; kTerminal by HTTP status: 400 → INVALID_ARGUMENT (but
// moderation and billing codes → FAILED_PRECONDITION), 401 → UNAUTHENTICATED, 403 →
// PERMISSION_DENIED, 404 → NOT_FOUND, other → INTERNAL. The message is "<code>: <message>".
absl::Status UpstreamErrorStatus(const UpstreamError& error);

// The UpstreamError inside a status made by UpstreamErrorStatus, if any.
std::optional<UpstreamError> GetUpstreamError(const absl::Status& status);

// Whether `code` is a content-moderation rejection (DataInspectionFailed and kin).
bool IsModerationCode(absl::string_view code);

// Whether `code` is an account billing state (overdue, not purchased): terminal whatever the
// HTTP status, because no amount of waiting fixes it.
bool IsBillingCode(absl::string_view code);

// Parses a Retry-After header: delta-seconds or an HTTP-date (relative to `now`). nullopt if
// absent or malformed; a date in the past yields zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_ERRORS_H_
