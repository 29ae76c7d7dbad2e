// An async create whose outcome is unknown (the reply was lost after the request may have
// reached DashScope, or the gateway stopped before it came): handed to the CreateResolver, and
// adopted only with its proof. The claim on the upstream id is stored before the result is
// used; the store keeps claims unique, so no two tasks ever hold one upstream task.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_errors.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

bool TaskManager::HeldByAnother(const std::string& upstream_id, const std::string& task_id) {
  absl::StatusOr<std::string> holder = tasks_.FindByUpstreamId(upstream_id);
  if (absl::IsNotFound(holder.status())) return false;
  // A failed look-up proves nothing: count the candidate as taken rather than risk it.
  return !holder.ok() || *holder != task_id;
}

namespace {

bool SameRequest(const v1::GenerationSpec& a, const v1::GenerationSpec& b) {
  return a.model() == b.model() && a.prompt() == b.prompt() && a.n() == b.n();
}

}  // namespace

std::string TaskManager::UnresolvedTwin(const ActivePtr& a) {
  const v1::Task& mine = a->record.task;
  const absl::Time sent = FromProto(mine.submit_time());
  const absl::Duration window = options_.resolver.window_margin + options_.resolver.skew;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, other] : active_) {
    if (id == a->id) continue;
    const v1::Task& t = other->published;  // other tasks' records are their strands' own
    if (!t.has_submit_time() || !t.upstream_task_id().empty() || IsTerminal(t.state())) continue;
    if (SameRequest(t.spec(), mine.spec()) &&
        absl::AbsDuration(FromProto(t.submit_time()) - sent) <= window) {
      return id;
    }
  }
  const absl::Time forget = clock_.Now() - 2 * options_.resolver.max_wait;
  while (!unresolved_.empty() && unresolved_.front().sent < forget) unresolved_.pop_front();
  for (const Unresolved& u : unresolved_) {
    if (u.task_id != a->id && SameRequest(u.spec, mine.spec()) &&
        absl::AbsDuration(u.sent - sent) <= window) {
      return u.task_id;
    }
  }
  return "";
}

void TaskManager::RememberUnresolved(const ActivePtr& a) {
  const v1::Task& task = a->record.task;
  absl::MutexLock lock(&mu_);
  unresolved_.push_back({a->id, task.spec(), FromProto(task.submit_time())});
}

void TaskManager::ResolveUnknownCreate(const ActivePtr& a, absl::Time failed,
                                       const std::string& cause) {
  const v1::Task& task = a->record.task;
  CreateResolver::Request request;
  request.model = a->model;
  request.prompt = task.spec().prompt();
  request.n = task.spec().n() > 0 ? task.spec().n() : 1;
  request.sent = FromProto(task.submit_time());
  request.failed = failed;
  resolver_.Resolve(
      std::move(request),
      [this, a](dashscope::TaskStatus status) {
        a->strand->Post([this, a, status] {
          v1::Task& task = a->record.task;
          if (IsTerminal(task.state()) || Stopping()) return;
          // The candidates' progress: the caller sees the task wait or run upstream.
          const v1::TaskState state = status == dashscope::TaskStatus::kRunning
                                          ? v1::TASK_STATE_RUNNING
                                          : v1::TASK_STATE_PENDING;
          if (task.state() == state) return;
          task.set_state(state);
          Commit(a, store::Durability::kRelaxed);
        });
      },
      [this, a, cause](CreateResolver::Result result) mutable {
        a->strand->Post([this, a, cause, result = std::move(result)]() mutable {
          OnResolved(a, cause, std::move(result));
        });
      });
}

void TaskManager::OnResolved(const ActivePtr& a, const std::string& cause,
                             CreateResolver::Result result) {
  if (Stopping()) return;
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state())) {  // cancelled meanwhile
    ReleaseSlot(a);
    if (result.adopted.has_value()) {
      // Its result is discarded, but the upstream task stays claimed, never another's.
      task.set_upstream_task_id(result.adopted->task_id);
      Commit(a, store::Durability::kSynced);
    }
    return;
  }
  if (!result.adopted.has_value()) {
    spdlog::warn("task {}: tenant={} create outcome unknown and not resolved: {}", a->id,
                 a->tenant, result.why);
    RememberUnresolved(a);
    ReleaseSlot(a);
    Finish(a, v1::TASK_STATE_FAILED,
           SubmitOutcomeUnknown(absl::StrCat(cause, "; ", result.why), result.candidates));
    return;
  }
  if (const std::string twin = UnresolvedTwin(a); !twin.empty()) {
    // Another task of this gateway sent the same request in the same seconds and has no
    // upstream id either: the proof fits both, so it proves neither.
    RememberUnresolved(a);
    ReleaseSlot(a);
    Finish(a, v1::TASK_STATE_FAILED,
           SubmitOutcomeUnknown(absl::StrCat(cause, "; task ", twin,
                                             " sent the same request at the same time, so the "
                                             "upstream task found cannot be told apart"),
                                {result.adopted->task_id}));
    return;
  }
  dashscope::UpstreamTask found = *std::move(result.adopted);
  spdlog::info("task {}: tenant={} create outcome was unknown; proved upstream task {} is it",
               a->id, a->tenant, found.task_id);
  task.set_upstream_task_id(found.task_id);
  if (!found.request_id.empty()) task.add_upstream_request_ids(found.request_id);
  task.set_state(v1::TASK_STATE_RUNNING);
  if (found.scheduled_time.has_value()) ToProto(*found.scheduled_time, task.mutable_start_time());
  // The claim is durable before its images are used; if another task took the id meanwhile,
  // the write fails and Commit fails this task instead (never two holders).
  Commit(a, store::Durability::kSynced, [this, a, found = std::move(found)]() mutable {
    ReleaseSlot(a);
    if (IsTerminal(a->record.task.state())) return;  // cancelled while the claim was written
    StartDownloads(a, std::move(found));
  });
}

}  // namespace qwenimage::tasks
