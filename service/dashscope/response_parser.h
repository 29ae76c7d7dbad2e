// Response parsers for every DashScope reply shape (dashscope-api.md §4, §5): sync generation,
// async create, task query, batch list, cancel, and error bodies. Pure functions over the body.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_RESPONSE_PARSER_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_RESPONSE_PARSER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// Parsers of 2xx bodies. A body that is not the documented JSON (truncated, wrong shape) yields
// DATA_LOSS without an UpstreamError: only the caller knows whether retrying is safe. A 2xx body
// that is an error envelope ({"code","message"} and no output) yields an UpstreamError status.

// Sync generation: every image of choices[0].message.content; task_metric is ignored.
absl::StatusOr<UpstreamTask> ParseGenerationResponse(absl::string_view body);
// Async create: task id and initial status.
absl::StatusOr<CreatedTask> ParseCreateTaskResponse(absl::string_view body);
// GET /tasks/{id}: any status; results entries with "code" become failures.
absl::StatusOr<UpstreamTask> ParseTaskResponse(absl::string_view body);
// GET /tasks: top-level paging fields; entry times are epoch milliseconds.
absl::StatusOr<TaskListPage> ParseTaskListResponse(absl::string_view body);
// POST /tasks/{id}/cancel: the request id.
absl::StatusOr<std::string> ParseCancelResponse(absl::string_view body);

// A non-2xx reply, not yet classified (failure.h; the caller knows whether the call was billed).
// `*from_dashscope` tells whether the body was DashScope's JSON error envelope; other bodies get
// code "Unknown" (as the SDKs do) and a short, printable excerpt as message.
UpstreamError ParseErrorResponse(int http_status, absl::string_view body, bool* from_dashscope);

// "PENDING" → kPending, ...; SUSPENDED (SDK-only) counts as kPending. nullopt if unrecognised.
std::optional<TaskStatus> ParseTaskStatus(absl::string_view name);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_RESPONSE_PARSER_H_
