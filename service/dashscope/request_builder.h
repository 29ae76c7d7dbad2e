// Request builders for the DashScope endpoints (dashscope-api.md §1.2, §3): URL paths relative to
// the base URL and JSON bodies. Pure functions, so each wire detail is unit-tested alone.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_REQUEST_BUILDER_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_REQUEST_BUILDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

inline constexpr char kGenerationPath[] = "services/aigc/multimodal-generation/generation";
inline constexpr char kCreateTaskPath[] = "services/aigc/text2image/image-synthesis";

// Sync body: the single user message holds the input images (an edit), in order, then the
// prompt as its one text item; parameters.size is omitted when params.size is empty.
std::string BuildGenerationBody(const GenerationParams& params);

// Async create body: input.prompt; negative_prompt in parameters, as the HTTP docs place it.
std::string BuildCreateTaskBody(const GenerationParams& params);

// "tasks/<id>" and "tasks/<id>/cancel", the id percent-encoded.
std::string TaskPath(absl::string_view task_id);
std::string CancelTaskPath(absl::string_view task_id);

// "tasks?page_no=..&page_size=..[&start_time=YYYYMMDDhhmmss][&end_time=..][&model_name=..]
// [&status=..]".
std::string TaskListPath(const TaskListQuery& query);

// Wire name of a status ("PENDING", ...).
absl::string_view TaskStatusName(TaskStatus status);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_REQUEST_BUILDER_H_
