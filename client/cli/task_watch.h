// Following a task to its end over WatchTask, shared by `watch` and `generate`: prints events
// (JSON lines, plain lines on change, or the TTY progress line) and reconnects when asked to.
#ifndef QWENIMAGE_CLIENT_CLI_TASK_WATCH_H_
#define QWENIMAGE_CLIENT_CLI_TASK_WATCH_H_

#include <string>

#include "client/cli/invocation.h"
#include "qwenimage/v1/task.pb.h"

namespace qwenimage::cli {

// Watches `task_id` until a terminal state and stores the final snapshot in `last`. Not OK
// when the stream fails, or ends (after reconnects) without a terminal state.
grpc::Status WatchToEnd(Invocation& inv, const std::string& task_id, v1::Task* last);

// kExitOk for SUCCEEDED, kExitTaskFailed (after printing the task's error) otherwise.
int FinishedTaskExitCode(Invocation& inv, const v1::Task& task);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_TASK_WATCH_H_
