#include "service/tasks/poll_planner.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/common/rate_limiter.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

constexpr double kQps = 20;
constexpr char kModel[] = "qwen-image-plus";

// Drives a planner against simulated upstream tasks on a fake clock: each call goes at its
// reserved start and answers after `rtt`; a GET after a task's end sees it finished.
class PlannerSim {
 public:
  explicit PlannerSim(PollPlannerOptions options = {})
      : budget_(clock_, kQps, static_cast<int>(kQps)), planner_(options, budget_, kQps, clock_) {}

  // A task submitted now that waits `pending` upstream, then runs for `duration`. A negative
  // `pending` makes it one that started running that long ago.
  void AddTask(const std::string& id, absl::Duration duration,
               absl::Duration pending = absl::ZeroDuration()) {
    start_at_[id] = clock_.Now() + pending;
    end_at_[id] = start_at_[id] + duration;
    planner_.Track(id, "up-" + id, kModel, clock_.Now(), StartedBy(id, clock_.Now()));
  }
  void Learn(absl::Duration d, int times) {
    for (int i = 0; i < times; ++i) planner_.RecordDuration(kModel, d);
  }

  // Runs until every task was seen finished or `limit` passed.
  void Run(absl::Duration limit) {
    const absl::Time stop = clock_.Now() + limit;
    absl::Time wake = clock_.Now();
    while (clock_.Now() < stop && (planner_.tracked() > 0 || !in_flight_.empty())) {
      absl::Time next = wake;
      for (const PollCall& c : in_flight_) next = std::min(next, c.start + rtt_);
      if (next == absl::InfiniteFuture()) break;
      clock_.Set(std::max(next, clock_.Now()));
      std::vector<PollCall> done;
      auto it = std::partition(in_flight_.begin(), in_flight_.end(), [this](const PollCall& c) {
        return c.start + rtt_ > clock_.Now();
      });
      done.assign(it, in_flight_.end());
      in_flight_.erase(it, in_flight_.end());
      for (const PollCall& c : done) Answer(c);
      for (PollCall& c : planner_.TakeDue(&wake)) {
        starts_.push_back(c.start);
        (c.kind == PollCall::Kind::kGet ? gets_ : lists_)++;
        if (c.kind == PollCall::Kind::kGet) polls_by_task_[c.task_id].push_back(c.start);
        in_flight_.push_back(std::move(c));
      }
    }
  }

  testing::FakeClock clock_;
  RateLimiter budget_;
  PollPlanner planner_;
  absl::Duration rtt_ = absl::Milliseconds(20);
  std::map<std::string, absl::Time> start_at_;
  std::map<std::string, absl::Time> end_at_;
  std::map<std::string, absl::Time> noticed_at_;
  std::map<std::string, std::vector<absl::Time>> polls_by_task_;
  std::vector<absl::Time> starts_;
  int gets_ = 0;
  int lists_ = 0;

 private:
  void Answer(const PollCall& c) {
    if (c.kind == PollCall::Kind::kList) {
      std::vector<std::string> finished;
      for (const auto& [id, end] : end_at_) {
        if (end <= c.start && noticed_at_.count(id) == 0) finished.push_back("up-" + id);
      }
      planner_.Listed(c.model, finished, 1);
      return;
    }
    if (end_at_.at(c.task_id) <= c.start) {
      noticed_at_[c.task_id] = clock_.Now();
      planner_.Untrack(c.task_id);
    } else {
      planner_.Track(c.task_id, "up-" + c.task_id, kModel, absl::InfinitePast(),
                     StartedBy(c.task_id, c.start));
    }
  }

  // What a GET at `t` tells of the task's start.
  std::optional<absl::Time> StartedBy(const std::string& id, absl::Time t) const {
    absl::Time start = start_at_.at(id);
    return start <= t ? std::optional<absl::Time>(start) : std::nullopt;
  }

  std::vector<PollCall> in_flight_;
};

// Replays the call starts through the account's token bucket (DashScope's and the simulator's
// model: `kQps` tokens per second, as many in the bucket at most): no call finds it empty.
void ExpectWithinBudget(std::vector<absl::Time> starts, int n) {
  std::sort(starts.begin(), starts.end());
  double tokens = kQps;
  absl::Time last = starts.empty() ? absl::InfinitePast() : starts.front();
  for (size_t i = 0; i < starts.size(); ++i) {
    tokens = std::min(kQps, tokens + absl::ToDoubleSeconds(starts[i] - last) * kQps);
    last = starts[i];
    tokens -= 1;
    ASSERT_GE(tokens, -1e-6) << n << " tasks: call " << i << " exceeds the budget";
  }
}

TEST(PollPlannerTest, NeverExceedsTheBudgetForAnyNumberOfTasks) {
  for (int n : {1, 2, 5, 10, 50, 100, 500, 1000}) {
    PlannerSim sim;
    for (int i = 0; i < n; ++i) {
      sim.AddTask(absl::StrCat("t", i), absl::Seconds(2) + absl::Milliseconds(37 * (i % 150)));
    }
    sim.Run(absl::Hours(1));
    ExpectWithinBudget(sim.starts_, n);
    EXPECT_EQ(sim.noticed_at_.size(), static_cast<size_t>(n)) << n << " tasks: some never noticed";
  }
}

TEST(PollPlannerTest, FewTasksAreNoticedWithinTheDenseInterval) {
  PlannerSim sim;
  sim.Learn(absl::Seconds(4), 10);
  sim.AddTask("a", absl::Seconds(4) + absl::Milliseconds(333));
  sim.AddTask("b", absl::Seconds(5));
  sim.Run(absl::Minutes(1));
  // Both in their dense phase share the planner's 80% of 20 queries/s: a poll every 125 ms
  // after the previous reply. An end just after a poll is sent is seen one round trip after
  // the reply to the next one.
  for (const char* id : {"a", "b"}) {
    EXPECT_LE(sim.noticed_at_.at(id) - sim.end_at_.at(id),
              absl::Milliseconds(125) + 2 * sim.rtt_)
        << id;
  }
}

TEST(PollPlannerTest, PollsSparselyBeforeTheLearnedRangeAndDenselyInIt) {
  PlannerSim sim;
  sim.Learn(absl::Seconds(20), 10);
  sim.AddTask("a", absl::Seconds(21));
  const absl::Time submitted = sim.clock_.Now();
  sim.Run(absl::Minutes(1));
  const std::vector<absl::Time>& polls = sim.polls_by_task_.at("a");
  int before = 0;
  for (absl::Time t : polls) before += t < submitted + absl::Seconds(19) ? 1 : 0;
  // Halving the way to the 20 s mark: about log2(20 s / 100 ms) polls, not 190.
  EXPECT_LE(before, 10);
  // From the learned duration on, every dense interval (plus the reply's round trip).
  for (size_t i = 1; i < polls.size(); ++i) {
    if (polls[i - 1] >= submitted + absl::Seconds(20)) {
      EXPECT_LE(polls[i] - polls[i - 1], absl::Milliseconds(100) + sim.rtt_);
    }
  }
}

TEST(PollPlannerTest, TheBudgetGoesToTasksNearTheirEnd) {
  PlannerSim sim;
  sim.Learn(absl::Seconds(20), 10);
  // Six tasks early in their run, and one that started 19.5 s ago: the dense interval is that
  // one's alone, not a seventh of the budget.
  for (int i = 0; i < 6; ++i) sim.AddTask(absl::StrCat("early", i), absl::Seconds(20));
  sim.AddTask("late", absl::Seconds(20) + absl::Milliseconds(777), -absl::Milliseconds(19500));
  sim.Run(absl::Seconds(3));
  ASSERT_EQ(sim.noticed_at_.count("late"), 1u);
  EXPECT_LE(sim.noticed_at_.at("late") - sim.end_at_.at("late"),
            absl::Milliseconds(100) + sim.rtt_);
}

TEST(PollPlannerTest, TasksWaitingUpstreamArePolledSparselyUntilTheyStart) {
  PlannerSim sim;
  sim.Learn(absl::Seconds(4), 10);
  sim.AddTask("running", absl::Seconds(4) + absl::Milliseconds(250));
  sim.AddTask("waiting", absl::Seconds(4), /*pending=*/absl::Seconds(10));
  sim.Run(absl::Minutes(1));
  ASSERT_EQ(sim.noticed_at_.size(), 2u);
  EXPECT_LE(sim.noticed_at_.at("running") - sim.end_at_.at("running"),
            absl::Milliseconds(100) + sim.rtt_);
  // While it waits, about one poll a second; once running, planned from its start.
  int while_waiting = 0;
  for (absl::Time t : sim.polls_by_task_.at("waiting")) {
    while_waiting += t < sim.start_at_.at("waiting") ? 1 : 0;
  }
  EXPECT_LE(while_waiting, 16);
  EXPECT_LE(sim.noticed_at_.at("waiting") - sim.end_at_.at("waiting"),
            absl::Milliseconds(100) + sim.rtt_);
}

TEST(PollPlannerTest, ListsInsteadOfPollingWhenManyTasksRun) {
  PollPlannerOptions options;
  options.list_threshold = 8;
  PlannerSim sim(options);
  for (int i = 0; i < 200; ++i) sim.AddTask(absl::StrCat("t", i), absl::Seconds(30));
  sim.Run(absl::Minutes(5));
  EXPECT_EQ(sim.noticed_at_.size(), 200u);
  EXPECT_GT(sim.lists_, 0);
  // Each task is fetched about once, after a list showed it finished — not polled throughout.
  EXPECT_LE(sim.gets_, 200 + 200 / 8);
}

TEST(PollPlannerTest, UntrackedTasksAreNotPolled) {
  PlannerSim sim;
  sim.AddTask("a", absl::Seconds(10));
  sim.planner_.Untrack("a");
  absl::Time wake;
  EXPECT_TRUE(sim.planner_.TakeDue(&wake).empty());
  EXPECT_EQ(wake, absl::InfiniteFuture());
}

}  // namespace
}  // namespace qwenimage::tasks
