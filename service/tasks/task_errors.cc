#include "service/tasks/task_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "service/logging/redact.h"

namespace qwenimage::tasks {
namespace {

// Upstream's text is kept at most this long (a proxy's error page can be large).
constexpr size_t kMaxUpstreamText = 512;

v1::TaskError Make(absl::string_view code, absl::string_view message, bool retryable,
                   absl::StatusCode status_code) {
  v1::TaskError error;
  error.set_code(std::string(code));
  error.set_message(std::string(message));
  error.set_retryable(retryable);
  error.set_status_code(static_cast<int>(status_code));
  return error;
}

}  // namespace

std::string UpstreamText(absl::string_view text) {
  std::string out = logging::Redact(text);
  if (out.size() <= kMaxUpstreamText) return out;
  size_t end = kMaxUpstreamText;
  // Cut before a UTF-8 continuation byte, never inside a character.
  while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
  out.resize(end);
  out += "...";
  return out;
}

v1::TaskError UpstreamCallError(const absl::Status& status) {
  if (auto upstream = dashscope::GetUpstreamError(status); upstream.has_value()) {
    v1::TaskError error =
        Make(upstream->code, UpstreamText(upstream->message), upstream->caller_may_retry,
             upstream->status_code);
    error.set_upstream_request_id(upstream->request_id);
    error.set_http_status(upstream->http_status);
    return error;
  }
  return Make("Internal", UpstreamText(status.message()), /*retryable=*/true,
              absl::StatusCode::kInternal);
}

v1::TaskError UpstreamTaskError(const std::string& code, const std::string& message,
                                const std::string& request_id) {
  const std::string& c = code.empty() ? "Unknown" : code;
  const dashscope::Verdict verdict = dashscope::ClassifyTaskFailure(c);
  v1::TaskError error = Make(c, UpstreamText(message), verdict.caller_may_retry, verdict.status_code);
  error.set_upstream_request_id(request_id);
  return error;
}

v1::TaskError SubmitOutcomeUnknown(absl::string_view why,
                                   const std::vector<std::string>& candidates) {
  std::string message = absl::StrCat(
      "the upstream call may have been done and billed, but its outcome is unknown (", why,
      "); it was not sent again, to avoid paying twice");
  if (!candidates.empty()) {
    absl::StrAppend(&message, "; upstream tasks that may be this one: ",
                    absl::StrJoin(candidates, ", "));
  }
  return Make("SubmitOutcomeUnknown", message, /*retryable=*/false, absl::StatusCode::kUnknown);
}

v1::TaskError Interrupted() {
  return Make("Interrupted",
              "the gateway stopped while the upstream call was in flight; the call may have been "
              "billed and was not sent again, to avoid paying twice",
              /*retryable=*/false, absl::StatusCode::kUnknown);
}

v1::TaskError DownloadFailed(absl::string_view why) {
  return Make("DownloadFailed", why, /*retryable=*/true, absl::StatusCode::kUnavailable);
}

v1::TaskError NoImages(absl::string_view code, absl::string_view message) {
  return Make(code, message, /*retryable=*/true, absl::StatusCode::kUnavailable);
}

v1::TaskError QueueFull(absl::string_view why) {
  return Make("QueueFull", why, /*retryable=*/true, absl::StatusCode::kResourceExhausted);
}

v1::TaskError KeyOutage(absl::string_view why) {
  return Make("KeyOutage", why, /*retryable=*/true, absl::StatusCode::kUnavailable);
}

v1::TaskError CancelledByCaller() {
  return Make("Cancelled", "cancelled by the caller", false, absl::StatusCode::kCancelled);
}

v1::TaskError CanceledUpstream() {
  return Make("CanceledUpstream", "the task was cancelled upstream", false,
              absl::StatusCode::kCancelled);
}

v1::TaskError InputImageLost(absl::string_view why) {
  return Make("InputImageLost", why, /*retryable=*/false, absl::StatusCode::kFailedPrecondition);
}

v1::TaskError UpstreamTaskUnknown() {
  return Make("UpstreamTaskUnknown", "DashScope no longer knows the task (ids expire after 24 h)",
              false, absl::StatusCode::kInternal);
}

}  // namespace qwenimage::tasks
