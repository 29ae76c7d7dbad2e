// The poller half of TaskManager: wakes when the planner has calls due, sends each at the time
// its budget slot allows, and feeds list replies back to the planner.
#include <utility>
#include <vector>

#include "service/dashscope/errors.h"
#include "service/tasks/active_task.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

void TaskManager::WakePoller() {
  // While the key is refused every call would be too; resuming wakes the poller again.
  if (Draining() || CredentialsRefused()) return;
  absl::Time next_wake;
  std::vector<PollCall> calls = planner_.TakeDue(&next_wake);
  for (PollCall& call : calls) SendPollCall(std::move(call));
  // The executor calls below only queue or drop a closure; they never call back in here.
  absl::MutexLock lock(&poll_mu_);
  if (next_wake >= poll_wake_at_) return;  // an earlier wake-up is already set
  if (poll_wake_timer_ != 0) executor_.CancelTimer(poll_wake_timer_);
  poll_wake_at_ = next_wake;
  const uint64_t generation = ++poll_wake_generation_;
  poll_wake_timer_ = executor_.RunAt(next_wake, [this, generation] {
    {
      absl::MutexLock lock(&poll_mu_);
      if (generation != poll_wake_generation_) return;  // replaced while it was firing
      poll_wake_at_ = absl::InfiniteFuture();
      poll_wake_timer_ = 0;
    }
    WakePoller();
  });
}

void TaskManager::StopPoller() {
  absl::MutexLock lock(&poll_mu_);
  if (poll_wake_timer_ != 0) executor_.CancelTimer(poll_wake_timer_);
  poll_wake_timer_ = 0;
  poll_wake_at_ = absl::InfinitePast();  // no wake-up is set again
}

void TaskManager::SendPollCall(PollCall call) {
  if (call.kind == PollCall::Kind::kGet) {
    ActivePtr a = Find(call.task_id);
    if (a == nullptr) {
      planner_.Untrack(call.task_id);
      return;
    }
    executor_.RunAt(call.start, [this, a] { a->strand->Post([this, a] { DoPoll(a); }); });
    return;
  }
  dashscope::TaskListQuery query;
  query.start_time = call.window_start;
  query.end_time = call.window_end;
  query.model_name = call.model;
  query.page_no = call.page_no;
  query.page_size = call.page_size;
  executor_.RunAt(call.start, [this, query = std::move(query), model = call.model] {
    if (Draining()) return;  // the upstream client may be gone
    upstream_.ListTasks(query, [this, model](absl::StatusOr<dashscope::TaskListPage> page) {
      executor_.Run([this, model, page = std::move(page)]() mutable {
        OnListed(model, std::move(page));
      });
    });
  });
}

void TaskManager::OnListed(const std::string& model,
                           absl::StatusOr<dashscope::TaskListPage> page) {
  if (!page.ok()) {
    std::optional<dashscope::UpstreamError> error = dashscope::GetUpstreamError(page.status());
    if (error.has_value() && error->kind == dashscope::UpstreamError::Kind::kThrottled) {
      query_budget_.PauseUntil(clock_.Now() + BackoffDelay(options_.submit_backoff, 1,
                                                           CappedRetryAfter(page.status())));
    }
    if (error.has_value() && error->kind == dashscope::UpstreamError::Kind::kCredentials) {
      OnCredentialsRefused(page.status());
    }
    spdlog::warn("listing {} tasks failed: {}", model, std::string(page.status().message()));
    planner_.ListFailed(model);
  } else {
    std::vector<std::string> finished;
    for (const dashscope::TaskListEntry& entry : page->data) {
      if (entry.status != dashscope::TaskStatus::kPending &&
          entry.status != dashscope::TaskStatus::kRunning) {
        finished.push_back(entry.task_id);
      }
    }
    planner_.Listed(model, finished, page->total_page);
  }
  WakePoller();
}

}  // namespace qwenimage::tasks
