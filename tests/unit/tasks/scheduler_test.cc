#include "service/tasks/scheduler.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/tasks/quota_error.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;

class SchedulerTest : public ::testing::Test {
 protected:
  void Make(SchedulerOptions options) {
    scheduler_ = std::make_unique<Scheduler>(
        std::move(options), executor_, clock_,
        [this](const std::string& id, const std::string&, const std::string&) {
          admitted_.push_back(id);
        },
        [this](const std::vector<std::pair<std::string, int>>& moved) {
          for (const auto& [id, pos] : moved) positions_[id] = pos;
        });
  }
  static SchedulerOptions Limits(int running, double rate) {
    SchedulerOptions o;
    o.default_limits = {running, rate};
    return o;
  }

  qwenimage::testing::FakeClock clock_;
  qwenimage::testing::ManualExecutor executor_{clock_};
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::string> admitted_;
  std::map<std::string, int> positions_;
};

TEST_F(SchedulerTest, AdmitsUpToTheRunningLimitThenOnRelease) {
  Make(Limits(2, 0));
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(scheduler_->Enqueue("m", "t", id).ok());
  EXPECT_THAT(admitted_, ElementsAre("a", "b"));
  EXPECT_EQ(scheduler_->RunningCount("m"), 2);
  EXPECT_EQ(scheduler_->QueuedCount("m"), 2);
  EXPECT_EQ(scheduler_->Position("c"), 1);
  EXPECT_EQ(scheduler_->Position("d"), 2);
  scheduler_->Release("m", "t");
  EXPECT_THAT(admitted_, ElementsAre("a", "b", "c"));
  EXPECT_EQ(scheduler_->Position("d"), 1);
  EXPECT_EQ(positions_["d"], 1);  // the change was published
}

TEST_F(SchedulerTest, QueueAheadAdmitsPastTheRunningLimitUntilStopped) {
  SchedulerOptions o = Limits(2, 0);
  o.default_limits.queue_ahead = 1;
  Make(o);
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "t", id).ok());
  }
  EXPECT_THAT(admitted_, ElementsAre("a", "b", "c"));  // two running, one waiting upstream
  EXPECT_TRUE(scheduler_->StopQueueAhead("m"));
  EXPECT_FALSE(scheduler_->StopQueueAhead("m"));
  scheduler_->Release("m", "t");  // three in flight become two: still at the running limit
  EXPECT_THAT(admitted_, ElementsAre("a", "b", "c"));
  scheduler_->Release("m", "t");
  EXPECT_THAT(admitted_, ElementsAre("a", "b", "c", "d"));
}

TEST_F(SchedulerTest, SubmitRateSpacesAdmissions) {
  Make(Limits(0, 2));  // no running limit, 2 submits per second
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(scheduler_->Enqueue("m", "t", id).ok());
  EXPECT_THAT(admitted_, ElementsAre("a"));
  executor_.AdvanceBy(absl::Milliseconds(499));
  EXPECT_THAT(admitted_, ElementsAre("a"));
  executor_.AdvanceBy(absl::Milliseconds(1));
  EXPECT_THAT(admitted_, ElementsAre("a", "b"));
  executor_.AdvanceBy(absl::Milliseconds(500));
  EXPECT_THAT(admitted_, ElementsAre("a", "b", "c"));
}

TEST_F(SchedulerTest, TenantsTakeTurns) {
  Make(Limits(1, 0));
  ASSERT_TRUE(scheduler_->Enqueue("m", "big", "running").ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "big", "big" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(scheduler_->Enqueue("m", "small", "small0").ok());
  // The small tenant's only task is second in line, not 101st.
  EXPECT_EQ(scheduler_->Position("small0"), 2);
  scheduler_->Release("m", "big");
  scheduler_->Release("m", "big");
  EXPECT_THAT(admitted_, ElementsAre("running", "big0", "small0"));
}

TEST_F(SchedulerTest, BoundsAnswerResourceExhausted) {
  SchedulerOptions o = Limits(1, 0);
  o.max_queued_total = 3;
  o.tenant_defaults.max_queued = 2;
  Make(o);
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "run").ok());  // admitted, not queued
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "a1").ok());
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "a2").ok());
  EXPECT_EQ(scheduler_->Enqueue("m", "a", "a3").status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b1").ok());
  EXPECT_EQ(scheduler_->Enqueue("m", "c", "c1").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(SchedulerTest, RemoveFreesThePlaceAtOnce) {
  Make(Limits(1, 0));
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(scheduler_->Enqueue("m", "t", id).ok());
  EXPECT_TRUE(scheduler_->Remove("b"));
  EXPECT_FALSE(scheduler_->Remove("b"));
  EXPECT_FALSE(scheduler_->Remove("a"));  // admitted, not queued
  EXPECT_EQ(scheduler_->Position("c"), 1);
  EXPECT_EQ(scheduler_->Position("d"), 2);
  EXPECT_EQ(positions_["d"], 2);
  EXPECT_EQ(scheduler_->QueuedCount("m"), 2);
}

TEST_F(SchedulerTest, ThrottleHoldsSubmissionsBack) {
  Make(Limits(0, 1));
  ASSERT_TRUE(scheduler_->Enqueue("m", "t", "a").ok());
  scheduler_->Throttle("m", absl::Seconds(5));
  ASSERT_TRUE(scheduler_->Enqueue("m", "t", "b", /*front=*/true).ok());
  executor_.AdvanceBy(absl::Seconds(4));
  EXPECT_THAT(admitted_, ElementsAre("a"));
  executor_.AdvanceBy(absl::Seconds(1));
  EXPECT_THAT(admitted_, ElementsAre("a", "b"));
}

TEST_F(SchedulerTest, ModelsHaveSeparateLimits) {
  SchedulerOptions o = Limits(1, 0);
  o.model_limits["wide"] = {3, 0};
  Make(o);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(scheduler_->Enqueue("wide", "t", "w" + std::to_string(i)).ok());
    ASSERT_TRUE(scheduler_->Enqueue("narrow", "t", "n" + std::to_string(i)).ok());
  }
  EXPECT_EQ(scheduler_->RunningCount("wide"), 3);
  EXPECT_EQ(scheduler_->RunningCount("narrow"), 1);
}

TEST_F(SchedulerTest, ThrottleHoldsSubmissionsEvenWithoutARateLimit) {
  Make(Limits(2, 0));
  scheduler_->Throttle("m", absl::Seconds(10));
  ASSERT_TRUE(scheduler_->Enqueue("m", "t", "a").ok());
  EXPECT_TRUE(admitted_.empty());
  EXPECT_EQ(scheduler_->Position("a"), 1);
  executor_.AdvanceBy(absl::Seconds(9));
  EXPECT_TRUE(admitted_.empty());
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_THAT(admitted_, ElementsAre("a"));
}

TEST_F(SchedulerTest, MaxQueuedIsTheTenantsOwnQuota) {
  Make(Limits(1, 0));
  TenantQuotas small;
  small.max_queued = 1;
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "run", false, std::nullopt, &small).ok());
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "a1", false, std::nullopt, &small).ok());
  absl::StatusOr<int> refused = scheduler_->Enqueue("m", "a", "a2", false, std::nullopt, &small);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  std::optional<QuotaExceeded> e = GetQuotaExceeded(refused.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->quota, QuotaKind::kMaxQueued);
  EXPECT_EQ(e->tenant, "a");
  EXPECT_EQ(e->limit, 1);
  EXPECT_TRUE(e->retry_after.has_value());
  // Another tenant runs under the defaults (1000).
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b" + std::to_string(i)).ok());
  }
}

TEST_F(SchedulerTest, TenantMayUseEverySlotWhileNobodyElseWaits) {
  Make(Limits(3, 0));
  TenantQuotas capped;
  capped.max_running = 1;
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "a", id, false, std::nullopt, &capped).ok());
  }
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "a3"));
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 3);
}

TEST_F(SchedulerTest, TenantAtItsRunningCapYieldsToAWaitingTenant) {
  Make(Limits(2, 0));
  TenantQuotas capped;
  capped.max_running = 1;
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "a", id, false, std::nullopt, &capped).ok());
  }
  ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b1").ok());
  ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b2").ok());
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2"));  // nobody else waited
  // A holds 1 slot, its cap, while B waits: the freed slot is B's although A is next in turn.
  scheduler_->Release("m", "a");
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "b1"));
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 1);
  EXPECT_EQ(scheduler_->RunningCount("m", "b"), 1);
  // B's cap is a fair share, ceil(2 / 2) = 1: with its slot freed, B is under it and A is not.
  scheduler_->Release("m", "b");
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "b1", "b2"));
  scheduler_->Release("m", "a");
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "b1", "b2", "a3"));
  // B has nothing left: A takes the idle slot beyond its cap.
  scheduler_->Release("m", "b");
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "b1", "b2", "a3", "a4"));
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 2);
}

TEST_F(SchedulerTest, FairShareCapsATenantWithoutItsOwnCap) {
  Make(Limits(4, 0));
  for (int i = 1; i <= 6; ++i) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "a", "a" + std::to_string(i)).ok());
  }
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 4);  // alone: every slot
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b" + std::to_string(i)).ok());
  }
  // Two tenants with work: a share is ceil(4 / 2) = 2. A, over it, yields until B has 2.
  scheduler_->Release("m", "a");
  scheduler_->Release("m", "a");
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "a3", "a4", "b1", "b2"));
  scheduler_->Release("m", "a");  // A holds 1, B 2: A is under its share
  EXPECT_THAT(admitted_, ElementsAre("a1", "a2", "a3", "a4", "b1", "b2", "a5"));
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 2);
  EXPECT_EQ(scheduler_->RunningCount("m", "b"), 2);
}

TEST_F(SchedulerTest, EveryWaitingTenantAtItsCapStillFillsIdleSlots) {
  Make(Limits(3, 0));
  TenantQuotas capped;
  capped.max_running = 1;
  scheduler_->SetPaused(true);
  for (const char* id : {"a1", "a2"}) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "a", id, false, std::nullopt, &capped).ok());
  }
  for (const char* id : {"b1", "b2"}) {
    ASSERT_TRUE(scheduler_->Enqueue("m", "b", id, false, std::nullopt, &capped).ok());
  }
  scheduler_->SetPaused(false);
  // Each takes its one slot, then the third would idle: the next in turn takes it.
  EXPECT_THAT(admitted_, ElementsAre("a1", "b1", "a2"));
}

TEST_F(SchedulerTest, ResumedSlotsCountForTheirTenant) {
  Make(Limits(2, 0));
  scheduler_->AcquireRunning("m", "a");
  scheduler_->AcquireRunning("m", "a");
  ASSERT_TRUE(scheduler_->Enqueue("m", "a", "a1").ok());
  ASSERT_TRUE(scheduler_->Enqueue("m", "b", "b1").ok());
  scheduler_->Release("m", "a");
  EXPECT_THAT(admitted_, ElementsAre("b1"));  // A held 1 = its share; B had none
  EXPECT_EQ(scheduler_->RunningCount("m", "a"), 1);
}

}  // namespace
}  // namespace qwenimage::tasks
