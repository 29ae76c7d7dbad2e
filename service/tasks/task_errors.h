// Every reason a task ends FAILED or CANCELLED, as a v1::TaskError: upstream failures carry
// DashScope's code with the verdict of dashscope/failure.h; the gateway's own codes are listed
// here once, each with what the caller is told and whether a retry may succeed.
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_ERRORS_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "qwenimage/v1/task.pb.h"

namespace qwenimage::tasks {

// Upstream's error text as a task keeps it: secrets redacted (logging::Redact: keys, bearer
// tokens, signed URL queries) and at most 512 bytes, cut at a character boundary.
std::string UpstreamText(absl::string_view text);

// A failed upstream call (its status carries an UpstreamError), or an internal failure.
v1::TaskError UpstreamCallError(const absl::Status& status);
// A task that ran upstream and ended FAILED with `code`.
v1::TaskError UpstreamTaskError(const std::string& code, const std::string& message,
                                const std::string& request_id);

// The billed call may have been done (and billed) upstream, and the gateway could not prove
// which upstream task is this one: never retryable, since a retry may pay twice.
// `candidates` are upstream task ids that support can check against the bill.
v1::TaskError SubmitOutcomeUnknown(absl::string_view why,
                                   const std::vector<std::string>& candidates);
// A sync call was in flight when the gateway process died (its outcome is unknown).
v1::TaskError Interrupted();
v1::TaskError DownloadFailed(absl::string_view why);
v1::TaskError NoImages(absl::string_view code, absl::string_view message);
v1::TaskError QueueFull(absl::string_view why);
v1::TaskError KeyOutage(absl::string_view why);
v1::TaskError CancelledByCaller();
v1::TaskError CanceledUpstream();
v1::TaskError UpstreamTaskUnknown();
// An edit's stored input image was gone (or no longer matched its sha256) when the task was
// about to be sent: nothing was sent. Create the task again with its inputs.
v1::TaskError InputImageLost(absl::string_view why);

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_ERRORS_H_
