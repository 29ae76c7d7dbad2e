#include "tests/unit/tasks/task_manager_fixture.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "service/simulator/images.h"
#include "service/store/dir_image_store.h"
#include "service/store/sqlite_task_store.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;

TEST_F(TaskManagerTest, AsyncTaskGoesThroughEveryStateAndStoresItsImage) {
  v1::Task task = Create("qwen-image-plus");
  auto watcher = std::make_shared<RecordingWatcher>();
  ASSERT_TRUE(manager_->Watch("tenant", task.id(), watcher).ok());
  executor_.RunUntilIdle();

  ASSERT_EQ(upstream_.creates.size(), 1u);
  AnswerCreate("up-1");
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
  EXPECT_EQ(Get(task.id()).upstream_task_id(), "up-1");
  AnswerPoll(TaskStatus::kRunning);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_RUNNING);
  AnswerPoll(TaskStatus::kSucceeded, {"https://x.aliyuncs.com/1.png"});
  AnswerDownloads(1328, 1328);

  v1::Task done = Get(task.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  ASSERT_EQ(done.images_size(), 1);
  EXPECT_EQ(done.images(0).width(), 1328);
  EXPECT_EQ(done.images(0).actual_prompt(), "a fluffy cat");
  EXPECT_EQ(done.images(0).sha256().size(), 64u);
  // The create reply, the poll that saw it start and the one that saw it end.
  EXPECT_THAT(done.upstream_request_ids(), ElementsAre("req-create", "req-get-1", "req-get-2"));
  EXPECT_EQ(*images_->Get(task.id(), 0), FakePng(1328, 1328));
  EXPECT_THAT(watcher->states(),
              ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_PENDING, v1::TASK_STATE_RUNNING,
                          v1::TASK_STATE_SUCCEEDED));
  // The persisted record is the final state too.
  EXPECT_EQ(tasks_->Get(task.id())->task.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(TaskManagerTest, SyncModelHoldsOneCallAndStoresEveryImage) {
  v1::Task task = Create("qwen-image-2.0", "", 3);
  ASSERT_EQ(upstream_.generates.size(), 1u);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_RUNNING);
  auto call = testing::FakeUpstream::Pop(upstream_.generates);
  EXPECT_EQ(call.params.n, 3);
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.request_id = "req-sync";
  for (int i = 0; i < 3; ++i) result.images.push_back({"http://127.0.0.1/i.png", "", ""});
  result.image_count = 3;
  result.width = 1024;
  result.height = 1024;
  call.done(result);
  executor_.RunUntilIdle();
  AnswerDownloads(1024, 1024);
  v1::Task done = Get(task.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(done.images_size(), 3);
  EXPECT_EQ(done.usage().image_count(), 3);
  EXPECT_EQ(done.images(2).uri(), "qwenimage://tasks/" + task.id() + "/images/2");
}

TEST_F(TaskManagerTest, SameRequestIdIsIdempotentAndConflictsAreRejected) {
  v1::Task first = Create("qwen-image-plus", "req-1");
  v1::Task again = Create("qwen-image-plus", "req-1");
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(upstream_.creates.size(), 1u);
  dashscope::GenerationParams other = Params("qwen-image-plus");
  other.prompt = "a dog";
  EXPECT_EQ(manager_->Create("tenant", quotas_, "req-1", other).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Another tenant has its own request ids.
  EXPECT_NE(manager_->Create("other", quotas_, "req-1", other)->id(), first.id());
}

TEST_F(TaskManagerTest, CancelWhileQueuedNeverReachesUpstream) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  Create("qwen-image-plus");
  v1::Task queued = Create("qwen-image-plus");
  EXPECT_EQ(Get(queued.id()).queue_position(), 1);
  absl::StatusOr<v1::Task> cancelled;
  manager_->Cancel("tenant", queued.id(), [&](absl::StatusOr<v1::Task> t) { cancelled = t; });
  executor_.RunUntilIdle();
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(manager_->QueuedCount("qwen-image-plus"), 0);
  EXPECT_EQ(upstream_.creates.size(), 1u);  // only the first task
}

TEST_F(TaskManagerTest, CancelWhilePendingCancelsUpstream) {
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-9");
  absl::StatusOr<v1::Task> cancelled;
  manager_->Cancel("tenant", task.id(), [&](absl::StatusOr<v1::Task> t) { cancelled = t; });
  executor_.RunUntilIdle();
  ASSERT_EQ(upstream_.cancels.size(), 1u);
  EXPECT_EQ(upstream_.cancels.front().arg, "up-9");
  testing::FakeUpstream::Pop(upstream_.cancels).done(std::string("req-cancel"));
  executor_.RunUntilIdle();
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(TaskManagerTest, CancelWhileRunningEndsLocallyAndStopsPolling) {
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-2");
  AnswerPoll(TaskStatus::kRunning);
  absl::StatusOr<v1::Task> cancelled;
  manager_->Cancel("tenant", task.id(), [&](absl::StatusOr<v1::Task> t) { cancelled = t; });
  executor_.RunUntilIdle();
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::TASK_STATE_CANCELLED);
  EXPECT_TRUE(upstream_.cancels.empty());
  executor_.AdvanceBy(absl::Seconds(60));
  EXPECT_TRUE(upstream_.gets.empty());
}

TEST_F(TaskManagerTest, RestartResumesPollingWithoutResubmitting) {
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-3");
  Restart();
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 1);
  AnswerPoll(TaskStatus::kSucceeded, {"https://x.aliyuncs.com/r.png"});
  AnswerDownloads(1328, 1328);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(upstream_.creates.empty());
}

TEST_F(TaskManagerTest, RestartFailsAnInterruptedSyncCall) {
  v1::Task task = Create("qwen-image-max");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  Restart();
  executor_.RunUntilIdle();
  v1::Task after = Get(task.id());
  EXPECT_EQ(after.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(after.error().code(), "Interrupted");
  EXPECT_TRUE(upstream_.generates.empty());
}

TEST_F(TaskManagerTest, RestartRequeuesTasksThatNeverLeft) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  Create("qwen-image-plus");
  v1::Task queued = Create("qwen-image-plus");
  // The first is now a create of unknown outcome (looked up, holding a slot), the second was
  // never sent: with a second slot it is sent now.
  options_.scheduler.default_limits = {2, 0};
  Restart();
  EXPECT_EQ(Get(queued.id()).state(), v1::TASK_STATE_QUEUED);
  ASSERT_EQ(upstream_.creates.size(), 1u);
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 2);
}

TEST_F(TaskManagerTest, ThrottledSubmitGoesBackToTheQueue) {
  v1::Task task = Create("qwen-image-plus");
  dashscope::UpstreamError e;
  e.kind = dashscope::UpstreamError::Kind::kThrottled;
  e.http_status = 429;
  e.code = "Throttling.RateQuota";
  testing::FakeUpstream::Pop(upstream_.creates).done(dashscope::UpstreamErrorStatus(e));
  executor_.RunUntilIdle();
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_QUEUED);
  executor_.AdvanceBy(absl::Seconds(60));
  ASSERT_EQ(upstream_.creates.size(), 1u);
  AnswerCreate("up-4");
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
}

TEST_F(TaskManagerTest, QueueAheadSubmitsPastTheLimitUntilUpstreamRefusesConcurrency) {
  options_.scheduler.default_limits = {1, 0};
  options_.queue_ahead = 1;
  Restart();
  Create("qwen-image-plus");
  v1::Task ahead = Create("qwen-image-plus");
  v1::Task third = Create("qwen-image-plus");
  ASSERT_EQ(upstream_.creates.size(), 2u);  // one to run, one to wait upstream
  EXPECT_EQ(Get(third.id()).queue_position(), 1);
  AnswerCreate("up-1");
  // This account's upstream refuses the one over its running limit instead of queueing it.
  dashscope::UpstreamError e;
  e.kind = dashscope::UpstreamError::Kind::kThrottled;
  e.http_status = 429;
  e.code = "Throttling.Concurrency";
  testing::FakeUpstream::Pop(upstream_.creates).done(dashscope::UpstreamErrorStatus(e));
  executor_.RunUntilIdle();
  EXPECT_EQ(Get(ahead.id()).state(), v1::TASK_STATE_QUEUED);
  // From now on the model stays within its running limit: nothing more is sent while one runs.
  executor_.AdvanceBy(absl::Seconds(60));
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 1);
}

TEST_F(TaskManagerTest, QueueAheadIsForAsyncModelsOnly) {
  options_.scheduler.default_limits = {1, 0};
  options_.queue_ahead = 1;
  Restart();
  Create("qwen-image-max");  // sync: a call beyond the limit would be refused, not queued
  Create("qwen-image-max");
  EXPECT_EQ(upstream_.generates.size(), 1u);
}

TEST_F(TaskManagerTest, TerminalUpstreamErrorFailsTheTaskWithTheUpstreamCode) {
  v1::Task task = Create("qwen-image-plus");
  dashscope::UpstreamError e;
  e.kind = dashscope::UpstreamError::Kind::kTerminal;
  e.http_status = 400;
  e.code = "DataInspectionFailed";
  e.message = "Input data may contain inappropriate content.";
  e.request_id = "req-bad";
  testing::FakeUpstream::Pop(upstream_.creates).done(dashscope::UpstreamErrorStatus(e));
  executor_.RunUntilIdle();
  v1::Task failed = Get(task.id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "DataInspectionFailed");
  EXPECT_EQ(failed.error().upstream_request_id(), "req-bad");
  EXPECT_FALSE(failed.error().retryable());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(TaskManagerTest, TwoWatchersShareOnePoller) {
  v1::Task task = Create("qwen-image-plus");
  auto w1 = std::make_shared<RecordingWatcher>();
  auto w2 = std::make_shared<RecordingWatcher>();
  ASSERT_TRUE(manager_->Watch("tenant", task.id(), w1).ok());
  ASSERT_TRUE(manager_->Watch("tenant", task.id(), w2).ok());
  executor_.RunUntilIdle();
  AnswerCreate("up-5");
  AnswerPoll(TaskStatus::kRunning);
  EXPECT_TRUE(upstream_.gets.empty());  // one poll per interval, not one per watcher
  AnswerPoll(TaskStatus::kSucceeded, {"https://x.aliyuncs.com/r.png"});
  AnswerDownloads(1328, 1328);
  EXPECT_EQ(w1->states(), w2->states());
  EXPECT_EQ(w1->states().back(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(TaskManagerTest, OtherTenantsSeeNothing) {
  v1::Task task = Create("qwen-image-plus");
  EXPECT_EQ(manager_->Get("intruder", task.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Watch("intruder", task.id(), std::make_shared<RecordingWatcher>())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TaskManagerTest, PartialFailureKeepsTheGoodImages) {
  v1::Task task = Create("qwen-image-2.0", "", 2);
  auto call = testing::FakeUpstream::Pop(upstream_.generates);
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"http://127.0.0.1/a.png", "", ""});
  result.failures.push_back({1, "DataInspectionFailed", "inappropriate"});
  result.image_count = 1;
  call.done(result);
  executor_.RunUntilIdle();
  AnswerDownloads(1024, 1024);
  v1::Task done = Get(task.id());
  EXPECT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(done.images_size(), 1);
  ASSERT_EQ(done.image_errors_size(), 1);
  EXPECT_EQ(done.image_errors(0).code(), "DataInspectionFailed");
}

TEST_F(RetryPolicyTest, ServerErrorsAreRetriedWithBackoffThenFailKeepingTheCode) {
  v1::Task task = Create("qwen-image-plus");
  for (int attempt = 1; attempt < options_.submit_backoff.max_attempts; ++attempt) {
    RefuseCreate(Refusal(500, "InternalError"));
    EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_QUEUED) << attempt;
    executor_.AdvanceBy(options_.submit_backoff.max);  // past any jittered delay
  }
  RefuseCreate(Refusal(500, "InternalError"));
  v1::Task failed = Get(task.id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "InternalError");
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(RetryPolicyTest, ThrottledSubmitWaitsForRetryAfter) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(Refusal(429, "Throttling.RateQuota", absl::Seconds(10)));
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_QUEUED);
  executor_.AdvanceBy(absl::Seconds(9));
  EXPECT_TRUE(upstream_.creates.empty());
  executor_.AdvanceBy(absl::Seconds(2));
  ASSERT_EQ(upstream_.creates.size(), 1u);
  AnswerCreate("up-retry-after");
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
}

TEST_F(RetryPolicyTest, ThrottlingIsRetriedPastTheAttemptLimit) {
  v1::Task task = Create("qwen-image-plus");
  for (int i = 0; i < options_.submit_backoff.max_attempts + 2; ++i) {
    RefuseCreate(Refusal(429, "Throttling"));
    EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_QUEUED) << i;
    executor_.AdvanceBy(options_.submit_backoff.max);
  }
}

TEST_F(RetryPolicyTest, RequestsUpstreamNeverServesAreTerminal) {
  for (const auto& [status, code] : std::vector<std::pair<int, std::string>>{
           {400, "InvalidParameter"}, {403, "AllocationQuota.FreeTierOnly"},
           {404, "ModelNotFound"}}) {
    v1::Task task = Create("qwen-image-plus");
    RefuseCreate(Refusal(status, code));
    v1::Task failed = Get(task.id());
    EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED) << code;
    EXPECT_EQ(failed.error().code(), code);
    EXPECT_EQ(failed.error().upstream_request_id(), "req-" + code);
  }
}

TEST_F(RetryPolicyTest, ThrottledPollPausesEveryTaskQuery) {
  options_.task_queries_per_second = 20;
  Restart();
  Create("qwen-image-plus");
  AnswerCreate("up-throttled");
  executor_.AdvanceBy(absl::Seconds(1));
  ASSERT_EQ(upstream_.gets.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.gets)
      .done(Refusal(429, "Throttling.RateQuota", absl::Seconds(5)));
  executor_.RunUntilIdle();
  executor_.AdvanceBy(absl::Seconds(4));
  EXPECT_TRUE(upstream_.gets.empty());
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(upstream_.gets.size(), 1u);
}

}  // namespace
}  // namespace qwenimage::tasks
