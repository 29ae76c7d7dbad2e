// Plain data exchanged with DashScope: what the gateway asks for and what upstream answered.
// No gRPC or proto types here; service/tasks converts.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_TYPES_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace qwenimage::dashscope {

enum class UpstreamMode { kAsync, kSync };

// One generation request, already validated and with defaults filled in.
struct GenerationParams {
  std::string model;
  std::string prompt;
  std::string negative_prompt;  // "" = omitted
  std::string size;             // "W*H"; "" = omitted (an edit: follows the last input)
  int n = 1;
  std::optional<int64_t> seed;
  bool prompt_extend = true;
  bool watermark = false;
  // Input images of an edit, in order: https URLs or "data:<mime>;base64,..." URIs (sync
  // endpoint only). Not part of a Task's record: the task layer loads them just before sending.
  std::vector<std::string> images;
};

// DashScope task status (§5.2 of the reference). kUnknown: the id does not exist or expired.
enum class TaskStatus { kPending, kRunning, kSucceeded, kFailed, kCanceled, kUnknown };

struct ResultImage {
  std::string url;
  std::string orig_prompt;
  std::string actual_prompt;  // "" when upstream did not rewrite
  // Position among the requested images (upstream's results order, failures included); -1 =
  // its position among the images.
  int index = -1;
};

// A sub-image that failed while the task as a whole succeeded (partial failure).
struct ResultFailure {
  int index = 0;  // position in the upstream results array
  std::string code;
  std::string message;
};

// A task as upstream reports it (async GET /tasks/{id}), or the outcome of a sync call
// (status kSucceeded, no task_id).
struct UpstreamTask {
  std::string task_id;
  TaskStatus status = TaskStatus::kUnknown;
  std::string request_id;
  std::optional<absl::Time> submit_time;
  std::optional<absl::Time> scheduled_time;
  std::optional<absl::Time> end_time;
  std::vector<ResultImage> images;
  std::vector<ResultFailure> failures;
  int image_count = 0;  // usage.image_count
  int width = 0;        // usage.width / height (sync endpoint only)
  int height = 0;
  std::string code;     // FAILED only
  std::string message;  // FAILED only
};

// Reply to an async create.
struct CreatedTask {
  std::string task_id;
  TaskStatus status = TaskStatus::kPending;
  std::string request_id;
};

// Query of the batch list endpoint (GET /tasks). Times are sent as YYYYMMDDhhmmss.
struct TaskListQuery {
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
  std::string model_name;
  std::optional<TaskStatus> status;
  int page_no = 1;
  int page_size = 10;
};

struct TaskListEntry {
  std::string task_id;
  TaskStatus status = TaskStatus::kUnknown;
  std::string model_name;
  std::string request_id;
  std::optional<absl::Time> gmt_create;
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
};

struct TaskListPage {
  int total = 0;
  int total_page = 0;
  int page_no = 0;
  int page_size = 0;
  std::string request_id;
  std::vector<TaskListEntry> data;
};

// A failed DashScope call, classified by failure.h. Carried inside absl::Status (errors.h).
struct UpstreamError {
  // What the task layer may do with the call (failure.h decides).
  enum class Kind {
    kTerminal,        // retrying the same request cannot help (or the task ran and failed)
    kRetryable,       // nothing was done: the call may be sent again after a back-off
    kThrottled,       // rate/concurrency limits, nothing was done: send again after backing off
    kOutcomeUnknown,  // the request may have done its (billed) work: never send it again
    kCredentials,     // the key or account was refused, nothing was done: wait for the operator
  };
  Kind kind = Kind::kTerminal;
  // Whether a fresh request may succeed later (Task.error.retryable).
  bool caller_may_retry = false;
  // What the gateway's caller is told.
  absl::StatusCode status_code = absl::StatusCode::kInternal;
  int http_status = 0;  // 0 for transport errors
  std::string code;     // DashScope code, e.g. "Throttling.RateQuota"; "Transport" for transport
  std::string message;
  std::string request_id;
  std::optional<absl::Duration> retry_after;  // from a Retry-After header
};

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_TYPES_H_
