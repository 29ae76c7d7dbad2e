// The one classification of DashScope failures (dashscope-api.md §6): for every upstream answer
// it decides whether the call may be sent again, whether it may have been billed, what the caller
// is told, and whether a fresh request may succeed. No other layer keeps code lists of its own.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_FAILURE_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_FAILURE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// Billed calls (async create, sync generation) are re-sent only when DashScope's own JSON error
// says that no work was done; free calls (task GET, list, cancel) are idempotent; downloads too,
// but there a 4xx is the storage service's own final word (an expired signed URL).
enum class CallKind { kBilled, kFree, kDownload };

// What came back, as facts; Classify turns them into a decision.
struct Answer {
  enum class Shape {
    kTransport,    // no HTTP reply: connect failure, timeout, reset, close
    kTooLarge,     // the reply exceeded the size cap and was cut off
    kMalformed,    // 2xx with a body that is not the expected reply
    kDashScope,    // DashScope's JSON error envelope, with a code (any HTTP status)
    kForeign,      // an error status whose body is not DashScope's (a proxy's HTML, empty)
    kTaskFailure,  // a task that ran and FAILED (output.code inside a 200): not billed
  };
  Shape shape = Shape::kTransport;
  int http_status = 0;
  absl::string_view code;
  // kTransport only: whether the request may have reached the server.
  bool may_have_been_sent = true;
};

struct Verdict {
  UpstreamError::Kind kind = UpstreamError::Kind::kTerminal;
  // Whether submitting the same request again later may succeed (Task.error.retryable).
  bool caller_may_retry = false;
  // What the gateway's caller is told (mapped one to one onto gRPC codes at the edge).
  absl::StatusCode status_code = absl::StatusCode::kInternal;
};

Verdict Classify(CallKind call, const Answer& answer);

// Classifies `answer` and records the verdict in `error`.
void Classify(CallKind call, const Answer& answer, UpstreamError& error);

// The verdict on a task that ran upstream and FAILED with `code`.
inline Verdict ClassifyTaskFailure(absl::string_view code) {
  return Classify(CallKind::kFree, {Answer::Shape::kTaskFailure, 200, code});
}

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_FAILURE_H_
