// Concise human-readable lines for tasks, images and models; the --json path prints the
// protos themselves instead.
#ifndef QWENIMAGE_CLIENT_CLI_TASK_FORMAT_H_
#define QWENIMAGE_CLIENT_CLI_TASK_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "qwenimage/v1/image_service.pb.h"

namespace qwenimage::cli {

// "SUCCEEDED", "QUEUED", ... (the enum name without its prefix).
std::string StateName(v1::TaskState state);
// Parses "succeeded", "SUCCEEDED" or "TASK_STATE_SUCCEEDED"; false if unknown.
bool ParseState(absl::string_view text, v1::TaskState* state);
bool IsTerminal(v1::TaskState state);

// "<id>  <STATE>  [queue #N]  <model>": one line per task, for lists and watch.
std::string TaskLine(const v1::Task& task);
// Every line `get` prints: the task line, timings, images, error.
std::vector<std::string> TaskDetails(const v1::Task& task);
// "<id> RUNNING  queue #2  elapsed 3.4s" for the live progress line.
std::string ProgressLine(const v1::Task& task, absl::Duration elapsed);
// "<code>: <message> (upstream request <id>)", or empty when the task has no error.
std::string ErrorText(const v1::Task& task);
std::string ModelLine(const v1::Model& model);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_TASK_FORMAT_H_
