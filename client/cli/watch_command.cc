// `watch`: follows a task until it ends; exit code 3 when it ends FAILED or CANCELLED.
#include "client/cli/commands.h"
#include "client/cli/task_format.h"
#include "client/cli/task_watch.h"

namespace qwenimage::cli {

int RunWatch(Invocation& inv) {
  FlagSet flags;
  if (!inv.ParseFlags(flags,
                      {"watch", "TASK_ID",
                       "Follows a task until it ends, printing each change (a live progress line "
                       "on a terminal). Exits 3 if the task ends FAILED or CANCELLED."},
                      1, 1)) {
    return inv.exit_code();
  }
  v1::Task task;
  grpc::Status status = WatchToEnd(inv, inv.args()[0], &task);
  if (!status.ok()) return inv.Fail(status);
  if (!inv.options().json && task.state() == v1::TASK_STATE_SUCCEEDED) {
    // The task line itself was printed while watching; add the rest of the details.
    std::vector<std::string> lines = TaskDetails(task);
    for (size_t i = 1; i < lines.size(); ++i) inv.out().Line(lines[i]);
  }
  return FinishedTaskExitCode(inv, task);
}

}  // namespace qwenimage::cli
