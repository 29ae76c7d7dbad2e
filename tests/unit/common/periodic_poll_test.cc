// Tests for PeriodicPoll on a fake clock: the interval, one report per distinct failure,
// restarting, and that nothing runs after Stop().
#include "service/common/periodic_poll.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage {
namespace {

using ::qwenimage::testing::FakeClock;
using ::qwenimage::testing::ManualExecutor;
using ::testing::ElementsAre;

class PeriodicPollTest : public ::testing::Test {
 protected:
  void StartPolling() {
    poll_.Start(
        executor_, clock_, absl::Seconds(2),
        [this] {
          ++polls_;
          return next_.empty() ? absl::OkStatus() : absl::UnavailableError(next_);
        },
        [this](const absl::Status& error) { reported_.emplace_back(error.message()); });
  }

  FakeClock clock_;
  ManualExecutor executor_{clock_};
  PeriodicPoll poll_;
  int polls_ = 0;
  std::string next_;  // the next poll's failure; "" = success
  std::vector<std::string> reported_;
};

TEST_F(PeriodicPollTest, PollsOncePerInterval) {
  StartPolling();
  executor_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(polls_, 0);
  executor_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(polls_, 1);
  executor_.AdvanceBy(absl::Seconds(6));
  EXPECT_EQ(polls_, 4);
}

TEST_F(PeriodicPollTest, ReportsEachDistinctFailureOnceAndAgainAfterARecovery) {
  StartPolling();
  next_ = "file missing";
  executor_.AdvanceBy(absl::Seconds(6));  // three failing polls
  next_ = "file unreadable";
  executor_.AdvanceBy(absl::Seconds(2));
  next_ = "";
  executor_.AdvanceBy(absl::Seconds(2));
  next_ = "file missing";
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(polls_, 6);
  EXPECT_THAT(reported_, ElementsAre("file missing", "file unreadable", "file missing"));
}

TEST_F(PeriodicPollTest, NothingRunsAfterStopAndStartRestarts) {
  StartPolling();
  executor_.AdvanceBy(absl::Seconds(2));
  poll_.Stop();
  poll_.Stop();  // idempotent
  executor_.AdvanceBy(absl::Seconds(10));
  EXPECT_EQ(polls_, 1);
  EXPECT_EQ(executor_.pending_timers(), 0u);
  StartPolling();
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(polls_, 2);
}

}  // namespace
}  // namespace qwenimage
