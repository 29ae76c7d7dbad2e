// `list` (tasks, with filters and paging) and `models` (the catalog).
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/task_format.h"

namespace qwenimage::cli {

int RunList(Invocation& inv) {
  std::vector<std::string> states;
  v1::ListTasksRequest req;
  std::string model, page_token;
  int32_t page_size = 0;
  bool all = false;
  FlagSet flags;
  flags.AddList("state", &states, "only these states (repeat or comma list: queued,running,...)");
  flags.AddString("model", &model, "only tasks of this model");
  flags.AddInt("page_size", &page_size, "tasks per page (server default 50, at most 1000)");
  flags.AddString("page_token", &page_token, "continue from a previous page's token");
  flags.AddBool("all", &all, "follow next_page_token until the last page");
  if (!inv.ParseFlags(flags, {"list", "", "Lists your tasks, newest first."}, 0, 0)) {
    return inv.exit_code();
  }
  for (const std::string& s : states) {
    v1::TaskState state;
    if (!ParseState(s, &state)) {
      return inv.Fail(absl::StrCat("unknown state '", s,
                                   "' (queued, pending, running, succeeded, failed, cancelled)"),
                      kExitUsage);
    }
    req.add_states(state);
  }
  req.set_model(model);
  req.set_page_size(page_size);
  req.set_page_token(page_token);
  for (;;) {
    v1::ListTasksResponse resp;
    grpc::Status status = inv.stub().ListTasks(inv.NewContext().get(), req, &resp);
    if (!status.ok()) return inv.Fail(status);
    if (inv.options().json) {
      inv.out().Json(resp);
    } else {
      for (const v1::Task& task : resp.tasks()) inv.out().Line(TaskLine(task));
    }
    if (!all || resp.next_page_token().empty()) {
      if (!inv.options().json && !resp.next_page_token().empty()) {
        inv.out().Line("next page: --page_token=" + resp.next_page_token());
      }
      return kExitOk;
    }
    req.set_page_token(resp.next_page_token());
  }
}

int RunModels(Invocation& inv) {
  FlagSet flags;
  if (!inv.ParseFlags(flags, {"models", "", "Shows every model with its rules and load."}, 0,
                      0)) {
    return inv.exit_code();
  }
  v1::ListModelsResponse resp;
  grpc::Status status =
      inv.stub().ListModels(inv.NewContext().get(), v1::ListModelsRequest(), &resp);
  if (!status.ok()) return inv.Fail(status);
  if (inv.options().json) {
    inv.out().Json(resp);
  } else {
    for (const v1::Model& model : resp.models()) inv.out().Line(ModelLine(model));
  }
  return kExitOk;
}

}  // namespace qwenimage::cli
