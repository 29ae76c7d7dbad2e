// Resolving an async create whose reply was lost after the request was sent (timeout, reset, or
// the gateway stopped before it came): the task may exist upstream, so it is looked up in the
// batch list instead of being re-sent.
//
// Matching: the list shows the account's tasks of the model created in a window around our send
// time. An entry is a candidate if it was created at or after the send (less clock skew) and its
// id is not one this gateway already holds from a create reply. Exactly one candidate is adopted;
// none (after a few looks, as the create may still be in flight) or several (other creates of the
// same account and model in the same seconds: another gateway replica, another client) leave
// the task FAILED "SubmitOutcomeUnknown", as before. The list cannot tell apart two creates of
// the same model sent by other clients in the same window, hence the refusal to guess.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/dashscope/errors.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {
namespace {

constexpr int kLookups = 3;
// Between looks; the first look waits too, so that an upstream still processing the create
// has had time to record it.
constexpr absl::Duration kLookupSpacing = absl::Seconds(1);
// Clock skew allowed between our send time and upstream's gmt_create, and the margin of the
// list window (its query times have whole-second precision).
constexpr absl::Duration kSkew = absl::Seconds(2);
constexpr absl::Duration kWindowMargin = absl::Seconds(5);
// Create replies remembered as claimed upstream ids; far longer than any lookup lasts.
constexpr absl::Duration kClaimMemory = absl::Minutes(10);

}  // namespace

bool TaskManager::ClaimUpstreamId(const std::string& upstream_id) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&claims_mu_);
  while (!claim_order_.empty() && claim_order_.front().first < now - kClaimMemory) {
    claimed_.erase(claim_order_.front().second);
    claim_order_.pop_front();
  }
  if (!claimed_.insert(upstream_id).second) return false;
  claim_order_.emplace_back(now, upstream_id);
  return true;
}

bool TaskManager::IsClaimed(const std::string& upstream_id) const {
  absl::MutexLock lock(&claims_mu_);
  return claimed_.contains(upstream_id);
}

void TaskManager::ResolveUnknownCreate(const ActivePtr& a, const absl::Status& cause, int lookup) {
  const absl::Time sent = FromProto(a->record.task.submit_time());
  dashscope::TaskListQuery query;
  query.start_time = sent - kWindowMargin;
  query.end_time = clock_.Now() + kLookupSpacing + kWindowMargin;
  query.model_name = a->model;
  query.page_size = 100;
  absl::Time when = std::max(clock_.Now() + kLookupSpacing, query_budget_.Reserve());
  executor_.RunAt(when, [this, a, cause, lookup, query = std::move(query)] {
    upstream_.ListTasks(
        query, [this, a, cause, lookup](absl::StatusOr<dashscope::TaskListPage> page) mutable {
          a->strand->Post([this, a, cause, lookup, page = std::move(page)]() mutable {
            OnUnknownCreateListed(a, cause, lookup, std::move(page));
          });
        });
  });
}

void TaskManager::OnUnknownCreateListed(const ActivePtr& a, const absl::Status& cause, int lookup,
                                        absl::StatusOr<dashscope::TaskListPage> page) {
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state()) || Stopping()) {  // cancelled (or stopping) meanwhile
    ReleaseSlot(a);
    return;
  }
  std::vector<const dashscope::TaskListEntry*> candidates;
  if (page.ok()) {
    const absl::Time sent = FromProto(task.submit_time());
    for (const dashscope::TaskListEntry& entry : page->data) {
      if (entry.gmt_create.has_value() && *entry.gmt_create >= sent - kSkew &&
          !IsClaimed(entry.task_id)) {
        candidates.push_back(&entry);
      }
    }
  }
  const bool complete = page.ok() && page->total_page <= 1;
  if (complete && candidates.size() == 1 && ClaimUpstreamId(candidates[0]->task_id)) {
    const dashscope::TaskListEntry& found = *candidates[0];
    spdlog::info(
        "task {}: tenant={} create outcome was unknown; found upstream task {} in the list", a->id,
        a->tenant, found.task_id);
    task.set_upstream_task_id(found.task_id);
    if (!found.request_id.empty()) task.add_upstream_request_ids(found.request_id);
    task.set_state(found.status == dashscope::TaskStatus::kPending ? v1::TASK_STATE_PENDING
                                                                   : v1::TASK_STATE_RUNNING);
    Commit(a);
    SchedulePoll(a);  // the poll brings the outcome, whatever the list said
    return;
  }
  if (candidates.empty() && lookup < kLookups) {
    ResolveUnknownCreate(a, cause, lookup + 1);
    return;
  }
  spdlog::warn(
      "task {}: tenant={} create outcome unknown and not resolved ({} candidates in the list{})",
      a->id, a->tenant, candidates.size(),
      page.ok() ? "" : absl::StrCat("; list failed: ", page.status().message()));
  ReleaseSlot(a);
  FailUnknownOutcome(a, cause);
}

absl::Status TaskManager::ResumeUnknownCreates(const std::vector<ActivePtr>& lost) {
  if (lost.empty()) return absl::OkStatus();
  absl::Time earliest = absl::InfiniteFuture();
  for (const ActivePtr& a : lost) {
    earliest = std::min(earliest, FromProto(a->record.task.submit_time()));
  }
  // A task of ours created upstream in a lookup window holds its upstream id in a record
  // updated at or after that creation.
  absl::StatusOr<std::vector<store::TaskRecord>> recent =
      tasks_.ListUpdatedSince(earliest - kWindowMargin);
  if (!recent.ok()) return recent.status();
  for (const store::TaskRecord& r : *recent) {
    if (!r.task.upstream_task_id().empty()) ClaimUpstreamId(r.task.upstream_task_id());
  }
  const absl::Status cause =
      absl::UnavailableError("the gateway restarted before the create's reply arrived");
  for (const ActivePtr& a : lost) {
    a->strand->Post([this, a, cause] {
      a->holds_slot = true;
      spdlog::info("task {}: tenant={} create was in flight at the last stop; looking it up",
                   a->id, a->tenant);
      ResolveUnknownCreate(a, cause, /*lookup=*/1);
    });
  }
  return absl::OkStatus();
}

void TaskManager::FailUnknownOutcome(const ActivePtr& a, const absl::Status& cause) {
  Finish(a, v1::TASK_STATE_FAILED,
         GatewayError("SubmitOutcomeUnknown",
                      absl::StrCat("the upstream call failed after it was sent (", cause.message(),
                                   "); it was not re-sent to avoid double billing"),
                      /*retryable=*/true));
}

}  // namespace qwenimage::tasks
