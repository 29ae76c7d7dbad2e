// Tenant quotas through the TaskManager: rate windows on the fake clock, idempotent retries,
// max_queued and max_running, and what the observer hears.
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/tasks/quota_error.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;

class RecordingObserver : public TaskObserver {
 public:
  void OnQuotaRejected(const std::string& tenant, QuotaKind quota) override {
    absl::MutexLock lock(&mu_);
    rejections_.emplace_back(tenant, std::string(QuotaName(quota)));
  }
  std::vector<std::pair<std::string, std::string>> rejections() {
    absl::MutexLock lock(&mu_);
    return rejections_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> rejections_;
};

class TaskManagerQuotaTest : public TaskManagerTest {
 protected:
  void SetUp() override {
    options_.observer = &observer_;
    TaskManagerTest::SetUp();
  }

  absl::StatusOr<v1::Task> TryCreate(const std::string& request_id = "", int n = 1,
                                     const std::string& tenant = "tenant") {
    absl::StatusOr<v1::Task> t =
        manager_->Create(tenant, quotas_, request_id, Params("qwen-image-plus", n));
    executor_.RunUntilIdle();
    return t;
  }

  static QuotaExceeded Refusal(const absl::StatusOr<v1::Task>& t) {
    EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted) << t.status();
    std::optional<QuotaExceeded> e = GetQuotaExceeded(t.status());
    EXPECT_TRUE(e.has_value()) << t.status();
    return e.value_or(QuotaExceeded{});
  }

  size_t StoredTasks(const std::string& tenant = "tenant") {
    store::ListQuery q;
    q.tenant = tenant;
    q.limit = 1000;
    return tasks_->List(q)->size();
  }

  RecordingObserver observer_;
};

TEST_F(TaskManagerQuotaTest, CreatesPerMinuteRefusesANewTaskUntilTheWindowMoves) {
  quotas_.creates_per_minute = 2;
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(TryCreate().ok());
  clock_.Set(start + absl::Seconds(10));
  ASSERT_TRUE(TryCreate().ok());
  QuotaExceeded e = Refusal(TryCreate());
  EXPECT_EQ(e.quota, QuotaKind::kCreatesPerMinute);
  EXPECT_EQ(e.tenant, "tenant");
  EXPECT_EQ(e.limit, 2);
  EXPECT_EQ(e.retry_after, absl::Seconds(50));
  EXPECT_EQ(StoredTasks(), 2u);  // the refused create left no trace
  EXPECT_TRUE(TryCreate("", 1, "other").ok());  // quotas are per tenant
  clock_.Set(start + absl::Seconds(60));
  EXPECT_TRUE(TryCreate().ok());
  EXPECT_EQ(Refusal(TryCreate()).retry_after, absl::Seconds(10));
  EXPECT_THAT(observer_.rejections(),
              ElementsAre(std::pair<std::string, std::string>("tenant", "creates_per_minute"),
                          std::pair<std::string, std::string>("tenant", "creates_per_minute")));
}

TEST_F(TaskManagerQuotaTest, IdempotentRetriesAreNeitherCountedNorRefused) {
  quotas_.creates_per_minute = 1;
  absl::StatusOr<v1::Task> first = TryCreate("req-1");
  ASSERT_TRUE(first.ok());
  // At the limit, the retry still gets its task, and counts nothing.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::Task> again = TryCreate("req-1");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->id(), first->id());
  }
  // A conflicting reuse is ALREADY_EXISTS, not a quota refusal.
  absl::StatusOr<v1::Task> conflict =
      manager_->Create("tenant", quotas_, "req-1", Params("qwen-image-plus", 2));
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  // A new request id is refused, and leaves no trace.
  EXPECT_EQ(Refusal(TryCreate("req-2")).quota, QuotaKind::kCreatesPerMinute);
  EXPECT_EQ(StoredTasks(), 1u);
  clock_.Set(clock_.Now() + absl::Minutes(1));
  // The retries counted nothing: exactly one new create fits the next minute.
  ASSERT_TRUE(TryCreate("req-2").ok());
  EXPECT_EQ(Refusal(TryCreate("req-3")).quota, QuotaKind::kCreatesPerMinute);
  EXPECT_EQ(observer_.rejections().size(), 2u);
}

TEST_F(TaskManagerQuotaTest, IdempotentRetryIsNotRefusedByImagesPerDay) {
  quotas_.images_per_day = 3;
  absl::StatusOr<v1::Task> first = TryCreate("req-a", 3);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<v1::Task> again = TryCreate("req-a", 3);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), first->id());
  QuotaExceeded e = Refusal(TryCreate("req-b", 1));
  EXPECT_EQ(e.quota, QuotaKind::kImagesPerDay);
  EXPECT_EQ(e.limit, 3);
  EXPECT_EQ(e.retry_after, absl::Hours(24));
}

TEST_F(TaskManagerQuotaTest, ImagesPerDaySumsResolvedNAndRefillsAfter24Hours) {
  quotas_.images_per_day = 5;
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(TryCreate("", 2).ok());
  clock_.Set(start + absl::Hours(6));
  ASSERT_TRUE(TryCreate("", 2).ok());
  QuotaExceeded e = Refusal(TryCreate("", 2));
  EXPECT_EQ(e.quota, QuotaKind::kImagesPerDay);
  EXPECT_EQ(e.retry_after, absl::Hours(18));
  ASSERT_TRUE(TryCreate("", 1).ok());
  clock_.Set(start + absl::Hours(24));
  ASSERT_TRUE(TryCreate("", 2).ok());
  // More than the whole limit: waiting never helps, so no retry hint.
  e = Refusal(TryCreate("", 6));
  EXPECT_FALSE(e.retry_after.has_value());
}

TEST_F(TaskManagerQuotaTest, ImagesPerDaySurvivesARestart) {
  quotas_.images_per_day = 3;
  ASSERT_TRUE(TryCreate("", 2).ok());
  clock_.Set(clock_.Now() + absl::Hours(1));
  Restart();
  // Seeded from the store: the 2 images of an hour ago still count.
  QuotaExceeded e = Refusal(TryCreate("", 2));
  EXPECT_EQ(e.quota, QuotaKind::kImagesPerDay);
  EXPECT_EQ(e.retry_after, absl::Hours(23));
  EXPECT_TRUE(TryCreate("", 1).ok());
}

TEST_F(TaskManagerQuotaTest, MaxQueuedRefusalCountsNoCreate) {
  quotas_.max_queued = 1;
  quotas_.creates_per_minute = 4;
  ASSERT_TRUE(TryCreate().ok());  // running (the limit is 2)
  ASSERT_TRUE(TryCreate().ok());  // running
  absl::StatusOr<v1::Task> queued = TryCreate();
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->state(), v1::TASK_STATE_QUEUED);
  QuotaExceeded e = Refusal(TryCreate());
  EXPECT_EQ(e.quota, QuotaKind::kMaxQueued);
  EXPECT_EQ(e.limit, 1);
  EXPECT_TRUE(e.retry_after.has_value());
  EXPECT_EQ(StoredTasks(), 3u);
  // Its place in the line frees: the refused create did not count against the minute.
  manager_->Cancel("tenant", queued->id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();
  absl::StatusOr<v1::Task> fourth = TryCreate();
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  manager_->Cancel("tenant", fourth->id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();
  EXPECT_EQ(Refusal(TryCreate()).quota, QuotaKind::kCreatesPerMinute);
  EXPECT_THAT(observer_.rejections(),
              ElementsAre(std::pair<std::string, std::string>("tenant", "max_queued"),
                          std::pair<std::string, std::string>("tenant", "creates_per_minute")));
}

TEST_F(TaskManagerQuotaTest, QueuedTasksOverTheDefaultQuotaSurviveARestart) {
  options_.tenant_defaults.max_queued = 1;
  quotas_.max_queued = 3;  // the tenant's own quota, which a restart does not know
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(TryCreate().ok());  // 2 running, 3 queued
  EXPECT_EQ(manager_->QueuedCount("qwen-image-plus"), 3);
  Restart();
  EXPECT_EQ(manager_->QueuedCount("qwen-image-plus"), 3);
  store::ListQuery q;
  q.tenant = "tenant";
  // The StatusOr must outlive the loop (a range-for over `*List(q)` would read a destroyed one).
  absl::StatusOr<std::vector<store::TaskRecord>> listed = tasks_->List(q);
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const store::TaskRecord& r : *listed) {
    EXPECT_NE(r.task.state(), v1::TASK_STATE_FAILED) << r.task.error().message();
  }
}

TEST_F(TaskManagerQuotaTest, MaxRunningGivesTheFreedSlotToAWaitingTenant) {
  quotas_.max_running = 1;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(TryCreate("", 1, "a").ok());
  // Nobody else waits: A uses both of the model's slots.
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus", "a"), 2);
  ASSERT_TRUE(TryCreate("", 1, "b").ok());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus", "b"), 0);
  EXPECT_EQ(upstream_.creates.size(), 2u);
  // One of A's tasks ends: A still holds its cap (1) while B waits, so B gets the slot although
  // A's third task came first.
  dashscope::UpstreamError refused;
  refused.kind = dashscope::UpstreamError::Kind::kTerminal;
  refused.status_code = absl::StatusCode::kInvalidArgument;
  refused.http_status = 400;
  refused.code = "InvalidParameter";
  testing::FakeUpstream::Pop(upstream_.creates).done(dashscope::UpstreamErrorStatus(refused));
  executor_.RunUntilIdle();
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus", "a"), 1);
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus", "b"), 1);
  EXPECT_EQ(manager_->QueuedCount("qwen-image-plus"), 1);  // A's third
}

}  // namespace
}  // namespace qwenimage::tasks
