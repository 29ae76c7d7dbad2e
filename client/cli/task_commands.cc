// `get` and `cancel`: one unary call on one task id, printing the task it returns.
#include <functional>

#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/task_format.h"

namespace qwenimage::cli {
namespace {

using TaskCall =
    std::function<grpc::Status(grpc::ClientContext*, const std::string& id, v1::Task* task)>;

int RunTaskCall(Invocation& inv, const CommandHelp& help, const TaskCall& call) {
  FlagSet flags;
  if (!inv.ParseFlags(flags, help, 1, 1)) return inv.exit_code();
  v1::Task task;
  grpc::Status status = call(inv.NewContext().get(), inv.args()[0], &task);
  if (!status.ok()) return inv.Fail(status);
  if (inv.options().json) {
    inv.out().Json(task);
  } else {
    for (const std::string& line : TaskDetails(task)) inv.out().Line(line);
  }
  return kExitOk;
}

}  // namespace

int RunGet(Invocation& inv) {
  return RunTaskCall(inv, {"get", "TASK_ID", "Shows one task: state, timings, images, error."},
                     [&inv](grpc::ClientContext* ctx, const std::string& id, v1::Task* task) {
                       v1::GetTaskRequest req;
                       req.set_task_id(id);
                       return inv.stub().GetTask(ctx, req, task);
                     });
}

int RunCancel(Invocation& inv) {
  return RunTaskCall(
      inv,
      {"cancel", "TASK_ID",
       "Cancels a task and shows it. Cancelling a finished task leaves it unchanged."},
      [&inv](grpc::ClientContext* ctx, const std::string& id, v1::Task* task) {
        v1::CancelTaskRequest req;
        req.set_task_id(id);
        return inv.stub().CancelTask(ctx, req, task);
      });
}

}  // namespace qwenimage::cli
