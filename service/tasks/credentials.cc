// Upstream refuses the key or the account (401 InvalidApiKey, an overdue or unpurchased
// account): nothing was done, and nothing will work until the operator acts. Accepted tasks are
// not failed: submissions and polls pause, a free call probes until the key works again (or the
// key file changed: ProbeCredentials), and only tasks still queued after key_outage_timeout fail.
#include <string>
#include <vector>

#include "service/dashscope/errors.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_errors.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

bool TaskManager::CredentialsRefused() const {
  absl::MutexLock lock(&key_mu_);
  return outage_ != 0;
}

void TaskManager::OnCredentialsRefused(const absl::Status& status) {
  uint64_t outage = 0;
  {
    absl::MutexLock lock(&key_mu_);
    if (outage_ != 0) return;  // already paused
    outage_ = ++outages_;
    outage = outage_;
  }
  spdlog::error(
      "upstream refuses the DashScope API key or account ({}): submissions and polls are paused "
      "until it works again; tasks still queued after {} fail",
      std::string(status.message()), absl::FormatDuration(options_.key_outage_timeout));
  scheduler_.SetPaused(true);
  observer().OnCredentialsRefused(true);
  executor_.RunAt(clock_.Now() + options_.key_outage_timeout,
                  [this, outage] { OnOutageTimeout(outage); });
  ScheduleCredentialsProbe(clock_.Now() + options_.key_probe_interval);
}

void TaskManager::ProbeCredentials() { ScheduleCredentialsProbe(clock_.Now()); }

void TaskManager::ScheduleCredentialsProbe(absl::Time when) {
  uint64_t outage = 0;
  {
    absl::MutexLock lock(&key_mu_);
    if (outage_ == 0 || probe_scheduled_) return;
    probe_scheduled_ = true;
    outage = outage_;
  }
  executor_.RunAt(std::max(when, query_budget_.Reserve()), [this, outage] {
    if (Stopping()) return;
    dashscope::TaskListQuery query;  // the last 24 h, one entry: the cheapest authorised call
    query.page_size = 1;
    upstream_.ListTasks(query, [this, outage](absl::StatusOr<dashscope::TaskListPage> page) {
      executor_.Run([this, outage, status = page.status()] { OnCredentialsProbed(outage, status); });
    });
  });
}

void TaskManager::OnCredentialsProbed(uint64_t outage, absl::Status status) {
  {
    absl::MutexLock lock(&key_mu_);
    probe_scheduled_ = false;
    if (outage_ != outage) return;
  }
  if (Stopping()) return;
  if (!status.ok()) {  // refused again, or no answer: proof that the key works is an answer
    ScheduleCredentialsProbe(clock_.Now() + options_.key_probe_interval);
    return;
  }
  ResumeAfterOutage(outage);
}

void TaskManager::ResumeAfterOutage(uint64_t outage) {
  {
    absl::MutexLock lock(&key_mu_);
    if (outage_ != outage) return;
    outage_ = 0;
  }
  spdlog::warn("upstream accepts the DashScope API key again: submissions and polls resume");
  observer().OnCredentialsRefused(false);
  scheduler_.SetPaused(false);
  WakePoller();
}

void TaskManager::OnOutageTimeout(uint64_t outage) {
  if (Stopping()) return;
  {
    absl::MutexLock lock(&key_mu_);
    if (outage_ != outage) return;
  }
  const std::vector<std::string> queued = scheduler_.TakeQueued();
  if (!queued.empty()) {
    spdlog::error("the DashScope API key has been refused for {}: failing {} queued tasks",
                  absl::FormatDuration(options_.key_outage_timeout), queued.size());
  }
  // Tasks queued later in the same outage (given back by a reply, or new) fail soon too.
  executor_.RunAt(clock_.Now() + options_.key_probe_interval,
                  [this, outage] { OnOutageTimeout(outage); });
  for (const std::string& id : queued) {
    ActivePtr a = Find(id);
    if (a == nullptr) continue;
    a->strand->Post([this, a] {
      if (IsTerminal(a->record.task.state())) return;
      Finish(a, v1::TASK_STATE_FAILED,
             KeyOutage("upstream refused the gateway's DashScope API key for longer than the "
                       "key outage timeout; the task was never sent"));
    });
  }
}

}  // namespace qwenimage::tasks
