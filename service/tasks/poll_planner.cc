#include "service/tasks/poll_planner.h"

#include <algorithm>
#include <utility>

namespace qwenimage::tasks {
namespace {

// Samples needed before the learned range is trusted.
constexpr size_t kMinSamples = 3;
// Margin around the tracked tasks' creation times in a list window (clock skew, second
// precision of the list's query times).
constexpr absl::Duration kListMargin = absl::Seconds(5);
// The list window may not exceed 24 h.
constexpr absl::Duration kMaxListWindow = absl::Minutes(24 * 60 - 1);
// Plan no further ahead than this into the budget: later calls wait for the next wake.
constexpr absl::Duration kPlanAhead = absl::Seconds(1);
// In list mode, a task the list never shows ending is still fetched this often.
constexpr int kListModeSafetyFactor = 6;

}  // namespace

PollPlanner::PollPlanner(PollPlannerOptions options, RateLimiter& budget,
                         double queries_per_second, const Clock& clock)
    : options_(std::move(options)),
      budget_(budget),
      queries_per_second_(queries_per_second),
      clock_(clock) {}

void PollPlanner::Track(const std::string& task_id, const std::string& upstream_id,
                        const std::string& model, absl::Time submitted,
                        std::optional<absl::Time> started) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = tasks_.try_emplace(task_id);
  Tracked& t = it->second;
  if (inserted) {
    t.upstream_id = upstream_id;
    t.model = model;
    t.submitted = submitted;
    ++models_[model].tracked;
    by_upstream_id_[upstream_id] = task_id;
  }
  if (started.has_value()) t.started = started;
  t.in_flight = false;
  t.finished = false;
  PlanLocked(t, now);
}

void PollPlanner::Untrack(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  SetDenseLocked(it->second, false);
  --models_[it->second.model].tracked;
  by_upstream_id_.erase(it->second.upstream_id);
  tasks_.erase(it);
}

void PollPlanner::Listed(const std::string& model,
                         const std::vector<std::string>& finished_upstream_ids, int total_pages) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  ModelState& m = models_[model];
  m.list_in_flight = false;
  m.next_list = now + ListIntervalLocked();
  m.page_no = m.page_no < total_pages ? m.page_no + 1 : 1;
  for (const std::string& upstream_id : finished_upstream_ids) {
    auto id = by_upstream_id_.find(upstream_id);
    if (id == by_upstream_id_.end()) continue;
    auto it = tasks_.find(id->second);
    if (it != tasks_.end() && !it->second.in_flight) it->second.finished = true;
  }
}

void PollPlanner::ListFailed(const std::string& model) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  ModelState& m = models_[model];
  m.list_in_flight = false;
  m.next_list = now + ListIntervalLocked();
}

void PollPlanner::RecordDuration(const std::string& model, absl::Duration d) {
  absl::MutexLock lock(&mu_);
  std::deque<absl::Duration>& durations = models_[model].durations;
  durations.push_back(d);
  while (durations.size() > static_cast<size_t>(std::max(options_.history, 1))) {
    durations.pop_front();
  }
}

size_t PollPlanner::tracked() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

absl::Duration PollPlanner::DenseIntervalLocked() const {
  if (queries_per_second_ <= 0) return options_.min_interval;
  // Every dense task polled at this interval spends the planner's share of the budget; the
  // sparse ones take little, and the budget's limiter holds them all to it anyway.
  absl::Duration fair = absl::Seconds(static_cast<double>(std::max(dense_, 1)) /
                                      (queries_per_second_ * options_.budget_share));
  return std::clamp(fair, options_.min_interval, options_.max_interval);
}

absl::Duration PollPlanner::ListIntervalLocked() const {
  absl::Duration one_query = queries_per_second_ > 0
                                 ? absl::Seconds(1 / (queries_per_second_ * options_.budget_share))
                                 : absl::ZeroDuration();
  return 2 * std::max(options_.min_interval, one_query);
}

void PollPlanner::SetDenseLocked(Tracked& t, bool dense) {
  if (t.dense != dense) dense_ += dense ? 1 : -1;
  t.dense = dense;
}

void PollPlanner::PlanLocked(Tracked& t, absl::Time now) {
  const ModelState& m = models_.at(t.model);
  t.list_planned = ListMode(m);
  if (t.list_planned) {
    SetDenseLocked(t, false);
    t.due = now + options_.max_interval * kListModeSafetyFactor;
    return;
  }
  // The shortest usual run time (10th percentile), once enough are known.
  std::optional<absl::Duration> low;
  if (m.durations.size() >= kMinSamples) {
    std::vector<absl::Duration> sorted(m.durations.begin(), m.durations.end());
    std::sort(sorted.begin(), sorted.end());
    low = sorted[sorted.size() / 10];
  }
  // Sparse early: halve the way to `low`, then poll at it exactly; dense from there on, until
  // the task ends however long it takes. A task not yet running (waiting upstream behind the
  // running limit, or just created) backs off as one whose durations are unknown.
  const absl::Duration until_low =
      t.started.has_value() && low.has_value() ? *low - (now - *t.started) : absl::ZeroDuration();
  SetDenseLocked(t, t.started.has_value() && until_low <= DenseIntervalLocked());
  const absl::Duration dense = DenseIntervalLocked();
  absl::Duration delay;
  if (!t.started.has_value() || !low.has_value()) {
    delay = t.last_delay == absl::ZeroDuration()
                ? dense
                : std::min(t.last_delay * 1.5, options_.unknown_max_interval);
  } else if (until_low > 2 * dense) {
    delay = until_low / 2;
  } else {
    delay = std::max(until_low, dense);
  }
  t.last_delay = std::clamp(delay, dense, options_.max_interval);
  t.due = now + t.last_delay;
}

std::vector<PollCall> PollPlanner::TakeDue(absl::Time* next_wake) {
  const absl::Time now = clock_.Now();
  std::vector<PollCall> calls;
  absl::MutexLock lock(&mu_);
  *next_wake = absl::InfiniteFuture();
  auto reserve = [&](PollCall call) {
    call.start = budget_.Reserve();
    calls.push_back(std::move(call));
    return calls.back().start <= now + kPlanAhead;
  };

  // Lists first: one call covers every task of the model.
  for (auto& [model, m] : models_) {
    if (!ListMode(m) || m.list_in_flight) continue;
    if (m.next_list > now) {
      *next_wake = std::min(*next_wake, m.next_list);
      continue;
    }
    PollCall call;
    call.kind = PollCall::Kind::kList;
    call.model = model;
    call.window_start = now;
    for (const auto& [id, t] : tasks_) {
      if (t.model == model) call.window_start = std::min(call.window_start, t.submitted);
    }
    call.window_start = std::max(call.window_start - kListMargin, now - kMaxListWindow);
    call.window_end = now + kListMargin;
    call.page_no = m.page_no;
    call.page_size = options_.list_page_size;
    m.list_in_flight = true;
    if (!reserve(std::move(call))) {
      *next_wake = calls.back().start;
      return calls;
    }
  }

  std::vector<std::pair<absl::Time, Tracked*>> due;
  std::vector<const std::string*> ids;
  for (auto& [id, t] : tasks_) {
    if (t.in_flight) continue;
    // Finished ones first; a task planned in list mode whose model left it is due at once.
    const bool left_list_mode = t.list_planned && !ListMode(models_.at(t.model));
    absl::Time when = t.finished ? absl::InfinitePast() : left_list_mode ? now : t.due;
    if (when > now) {
      *next_wake = std::min(*next_wake, when);
      continue;
    }
    due.emplace_back(when, &t);
    ids.push_back(&id);
  }
  std::vector<size_t> order(due.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&due](size_t a, size_t b) { return due[a].first < due[b].first; });
  for (size_t i : order) {
    Tracked& t = *due[i].second;
    PollCall call;
    call.kind = PollCall::Kind::kGet;
    call.task_id = *ids[i];
    call.model = t.model;
    t.in_flight = true;
    if (!reserve(std::move(call))) {
      *next_wake = calls.back().start;
      return calls;
    }
  }
  return calls;
}

}  // namespace qwenimage::tasks
