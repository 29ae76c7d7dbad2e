// PollPlanner: decides which task-API call (GET one task, or one batch list per model) each token
// of the account's query budget is spent on. Polls sparsely early, densely once a running task
// enters the duration range learned for its model (the dense tasks share the budget), and lists
// instead of polling when many tasks run.
#ifndef QWENIMAGE_SERVICE_TASKS_POLL_PLANNER_H_
#define QWENIMAGE_SERVICE_TASKS_POLL_PLANNER_H_

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/rate_limiter.h"

namespace qwenimage::tasks {

struct PollPlannerOptions {
  // Densest per-task poll interval; the budget may stretch it when many tasks run.
  absl::Duration min_interval = absl::Milliseconds(100);
  absl::Duration max_interval = absl::Seconds(5);
  // Before any duration of the model is known, the interval grows 1.5x per poll up to this.
  absl::Duration unknown_max_interval = absl::Seconds(1);
  // Share of the budget the planner plans for; the rest stays free for cancels.
  double budget_share = 0.8;
  // With this many tasks of one model in flight, list them instead of polling each.
  int list_threshold = 8;
  int list_page_size = 100;
  // Durations remembered per model (the learned range is their 10th..90th percentile).
  int history = 32;
};

// One upstream call the planner asks for, with its start time already reserved in the budget.
struct PollCall {
  enum class Kind { kGet, kList };
  Kind kind = Kind::kGet;
  std::string task_id;  // kGet: the gateway task id
  std::string model;
  // kList: creation-time window covering the model's tracked tasks, and the page to fetch.
  absl::Time window_start;
  absl::Time window_end;
  int page_no = 1;
  int page_size = 100;
  absl::Time start;  // when the call may be sent
};

class PollPlanner {
 public:
  // `budget` is the account's task-API budget, shared with cancels; it must outlive the planner.
  PollPlanner(PollPlannerOptions options, RateLimiter& budget, double queries_per_second,
              const Clock& clock);

  // Starts planning polls of a task (upstream id `upstream_id`) submitted at `submitted`; for a
  // task already tracked (a GET came back and it still runs, or the GET failed), plans its next
  // poll. `started` is when upstream started running it (its scheduled_time); nullopt while it
  // waits upstream (PENDING) or is not yet known to run.
  void Track(const std::string& task_id, const std::string& upstream_id, const std::string& model,
             absl::Time submitted, std::optional<absl::Time> started = std::nullopt);
  void Untrack(const std::string& task_id);
  // A list page of `model` came back: `finished_upstream_ids` are the tasks it shows as ended
  // (tracked ones get a GET next); `total_pages` lets the next list fetch the following page.
  void Listed(const std::string& model, const std::vector<std::string>& finished_upstream_ids,
              int total_pages);
  // A list call failed: it will be retried at the next list time.
  void ListFailed(const std::string& model);
  // How long a task of `model` ran upstream (scheduled_time to end_time).
  void RecordDuration(const std::string& model, absl::Duration d);

  // The calls due now, most overdue first, each holding a reserved budget slot; planning stops
  // once the budget's next slot is more than a second away. `next_wake` is when to ask again
  // (InfiniteFuture when nothing is tracked).
  std::vector<PollCall> TakeDue(absl::Time* next_wake);

  size_t tracked() const;

 private:
  struct Tracked {
    std::string upstream_id;
    std::string model;
    absl::Time submitted;
    std::optional<absl::Time> started;
    absl::Time due;
    absl::Duration last_delay = absl::ZeroDuration();
    bool in_flight = false;
    bool finished = false;  // a list saw it end: GET it now
    bool list_planned = false;  // `due` is list mode's safety poll
    bool dense = false;  // running and past the model's usual shortest duration
  };
  struct ModelState {
    int tracked = 0;
    std::deque<absl::Duration> durations;
    absl::Time next_list = absl::InfinitePast();
    bool list_in_flight = false;
    int page_no = 1;
  };

  bool ListMode(const ModelState& m) const { return m.tracked >= options_.list_threshold; }
  absl::Duration DenseIntervalLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration ListIntervalLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the task's next poll time (and the delay that led to it).
  void PlanLocked(Tracked& t, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetDenseLocked(Tracked& t, bool dense) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PollPlannerOptions options_;
  RateLimiter& budget_;
  const double queries_per_second_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Tracked> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ModelState> models_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_upstream_id_ ABSL_GUARDED_BY(mu_);
  // Tracked tasks polled at the dense interval: they share the planner's part of the budget.
  int dense_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_POLL_PLANNER_H_
