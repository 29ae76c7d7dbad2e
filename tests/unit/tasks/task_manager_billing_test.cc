// TaskManager against the failures that cost money or leak results: unknown create outcomes,
// failed state writes, drain, Retry-After, a refused key, lost downloads, restarts.
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sha256.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = dashscope::UpstreamError::Kind;

absl::Status Classified(dashscope::CallKind call, dashscope::Answer answer,
                        std::optional<absl::Duration> retry_after = std::nullopt) {
  dashscope::UpstreamError e;
  dashscope::Classify(call, answer, e);
  e.http_status = answer.http_status;
  e.code = std::string(answer.code);
  e.message = "test";
  e.retry_after = retry_after;
  return dashscope::UpstreamErrorStatus(e);
}

// The reply of a billed call was lost after it may have reached DashScope.
absl::Status LostReply() {
  return Classified(dashscope::CallKind::kBilled,
                    {dashscope::Answer::Shape::kTransport, 0, "Transport", true});
}

// An HTML 502 from a load balancer in front of DashScope.
absl::Status ProxyGatewayError() {
  return Classified(dashscope::CallKind::kBilled,
                    {dashscope::Answer::Shape::kForeign, 502, "Unknown"});
}

absl::Status KeyRefused() {
  return Classified(dashscope::CallKind::kBilled,
                    {dashscope::Answer::Shape::kDashScope, 401, "InvalidApiKey"});
}

class BillingTest : public TaskManagerTest {
 protected:
  dashscope::TaskListEntry Entry(const std::string& upstream_id) {
    dashscope::TaskListEntry entry;
    entry.task_id = upstream_id;
    entry.status = TaskStatus::kRunning;
    entry.model_name = "qwen-image-plus";
    entry.request_id = "req-" + upstream_id;
    entry.gmt_create = clock_.Now();
    return entry;
  }
  // Answers the next batch-list lookup (after the resolver's spacing) with `entries`.
  void AnswerList(std::vector<dashscope::TaskListEntry> entries) {
    executor_.AdvanceBy(options_.resolver.lookup_spacing);
    ASSERT_EQ(upstream_.lists.size(), 1u);
    dashscope::TaskListPage page;
    page.total = static_cast<int>(entries.size());
    page.total_page = 1;
    page.data = std::move(entries);
    testing::FakeUpstream::Pop(upstream_.lists).done(page);
    executor_.RunUntilIdle();
  }
  // Answers the oldest task GET: `status`, and when it succeeded, `n` images of `prompt`.
  std::string AnswerGet(TaskStatus status, const std::string& prompt = "a cat", int n = 1) {
    EXPECT_FALSE(upstream_.gets.empty());
    if (upstream_.gets.empty()) return "";
    auto call = testing::FakeUpstream::Pop(upstream_.gets);
    dashscope::UpstreamTask t;
    t.task_id = call.arg;
    t.status = status;
    t.request_id = "req-get-" + call.arg;
    if (status == TaskStatus::kSucceeded) {
      for (int i = 0; i < n; ++i) {
        t.images.push_back({"https://x.aliyuncs.com/" + call.arg + ".png", prompt, ""});
      }
    }
    call.done(t);
    executor_.RunUntilIdle();
    return call.arg;
  }
  void RefuseCreate(const absl::Status& status) {
    ASSERT_FALSE(upstream_.creates.empty());
    testing::FakeUpstream::Pop(upstream_.creates).done(status);
    executor_.RunUntilIdle();
  }
  void ExpectOutcomeUnknown(const v1::Task& task) {
    EXPECT_EQ(task.state(), v1::TASK_STATE_FAILED);
    EXPECT_EQ(task.error().code(), "SubmitOutcomeUnknown");
    EXPECT_FALSE(task.error().retryable());
    EXPECT_EQ(task.error().status_code(), static_cast<int>(absl::StatusCode::kUnknown));
    EXPECT_THAT(task.error().message(), HasSubstr("billed"));
  }
};

TEST_F(BillingTest, AProvenCandidateIsAdoptedOnceItFinishes) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(ProxyGatewayError());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 1);  // it may be running upstream
  AnswerList({Entry("up-found")});
  EXPECT_EQ(AnswerGet(TaskStatus::kRunning), "up-found");
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_RUNNING);  // held while the candidate runs
  EXPECT_EQ(Get(task.id()).upstream_task_id(), "");           // not ours until proven
  executor_.AdvanceBy(options_.resolver.candidate_poll);
  AnswerGet(TaskStatus::kSucceeded);
  AnswerDownloads(1328, 1328);
  v1::Task done = Get(task.id());
  EXPECT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(done.upstream_task_id(), "up-found");
  EXPECT_EQ(*tasks_->FindByUpstreamId("up-found"), task.id());
  EXPECT_TRUE(upstream_.creates.empty());  // never sent again
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(BillingTest, ACandidateOfAnotherPromptIsNeverAdopted) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(LostReply());
  AnswerList({Entry("up-other-client")});
  AnswerGet(TaskStatus::kSucceeded, "somebody else's prompt");
  v1::Task failed = Get(task.id());
  ExpectOutcomeUnknown(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("up-other-client"));
  EXPECT_TRUE(upstream_.downloads.empty());  // nobody else's image is fetched
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(BillingTest, ACandidateWithAnotherImageCountIsNeverAdopted) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(LostReply());
  AnswerList({Entry("up-two")});
  AnswerGet(TaskStatus::kSucceeded, "a cat", /*n=*/2);
  ExpectOutcomeUnknown(Get(task.id()));
}

TEST_F(BillingTest, TwoMatchingCandidatesAreNotGuessedBetween) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(LostReply());
  AnswerList({Entry("up-x"), Entry("up-y")});
  AnswerGet(TaskStatus::kSucceeded);
  AnswerGet(TaskStatus::kSucceeded);
  v1::Task failed = Get(task.id());
  ExpectOutcomeUnknown(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("up-x"));
  EXPECT_THAT(failed.error().message(), HasSubstr("up-y"));
}

TEST_F(BillingTest, ACreateThatNeverArrivedFailsWithoutAGuess) {
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(LostReply());
  for (int lookup = 0; lookup < options_.resolver.empty_lookups; ++lookup) AnswerList({});
  ExpectOutcomeUnknown(Get(task.id()));
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_TRUE(upstream_.lists.empty());
}

TEST_F(BillingTest, UpstreamTasksOfOtherGatewayTasksAreNoCandidates) {
  v1::Task mine = Create("qwen-image-plus");
  AnswerCreate("up-mine");
  v1::Task lost = Create("qwen-image-plus");
  RefuseCreate(LostReply());
  for (int lookup = 0; lookup < options_.resolver.empty_lookups; ++lookup) {
    AnswerList({Entry("up-mine")});
  }
  ExpectOutcomeUnknown(Get(lost.id()));
  EXPECT_EQ(Get(mine.id()).upstream_task_id(), "up-mine");
}

TEST_F(BillingTest, ACreateInFlightAtRestartIsResolvedNotResent) {
  v1::Task task = Create("qwen-image-plus");
  ASSERT_EQ(upstream_.creates.size(), 1u);  // sent; the process dies before the reply
  Restart();
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 1);
  AnswerList({Entry("up-found")});
  AnswerGet(TaskStatus::kSucceeded);
  AnswerDownloads(1328, 1328);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(upstream_.creates.empty());
}

TEST_F(BillingTest, ASyncCallWithAnUnknownOutcomeIsNeverResent) {
  v1::Task task = Create("qwen-image-max");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.generates).done(ProxyGatewayError());
  executor_.RunUntilIdle();
  ExpectOutcomeUnknown(Get(task.id()));
  executor_.AdvanceBy(absl::Minutes(5));
  EXPECT_TRUE(upstream_.generates.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-max"), 0);
}

TEST_F(BillingTest, AFailedMarkerWriteHoldsTheCreate) {
  flaky_.FailUpdates(2);
  v1::Task task = Create("qwen-image-plus");
  EXPECT_TRUE(upstream_.creates.empty());  // not sent without its durable marker
  EXPECT_EQ(flaky_.failed_updates(), 1);
  executor_.AdvanceBy(options_.store_retry.initial);
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_EQ(flaky_.failed_updates(), 2);
  executor_.AdvanceBy(options_.store_retry.initial * 2);
  ASSERT_EQ(upstream_.creates.size(), 1u);
  EXPECT_EQ(flaky_.durabilities.back(), store::Durability::kSynced);
  AnswerCreate("up-1");
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
}

TEST_F(BillingTest, ProgressIsWrittenRelaxedAndBilledStatesSynced) {
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-1");
  AnswerPoll(TaskStatus::kRunning);
  AnswerPoll(TaskStatus::kSucceeded, {"https://x.aliyuncs.com/1.png"});
  AnswerDownloads(1328, 1328);
  ASSERT_EQ(Get(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  // Marker, upstream id, RUNNING, SUCCEEDED.
  EXPECT_THAT(flaky_.durabilities,
              ElementsAre(store::Durability::kSynced, store::Durability::kSynced,
                          store::Durability::kRelaxed, store::Durability::kSynced));
}

TEST_F(BillingTest, AFailedTerminalWriteKeepsTheTaskActiveUntilItIsStored) {
  v1::Task task = Create("qwen-image-max");
  auto watcher = std::make_shared<RecordingWatcher>();
  ASSERT_TRUE(manager_->Watch("tenant", task.id(), watcher).ok());
  executor_.RunUntilIdle();
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"https://x.aliyuncs.com/m.png", "a cat", ""});
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  flaky_.FailUpdates(1);
  AnswerDownloads(1664, 928);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_RUNNING);  // the stored truth, still
  EXPECT_EQ(tasks_->Get(task.id())->task.state(), v1::TASK_STATE_RUNNING);
  executor_.AdvanceBy(options_.store_retry.initial);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(tasks_->Get(task.id())->task.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(watcher->states().back(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(BillingTest, DrainWaitsForASyncCallAndStoresItsImages) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  v1::Task running = Create("qwen-image-max");
  v1::Task queued = Create("qwen-image-max");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  manager_->BeginDrain();
  EXPECT_FALSE(manager_->AwaitDrained(absl::Now()));  // the call is in flight
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"https://x.aliyuncs.com/m.png", "a cat", ""});
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  EXPECT_FALSE(manager_->AwaitDrained(absl::Now()));  // its image is downloading
  AnswerDownloads(1664, 928);
  EXPECT_TRUE(manager_->AwaitDrained(absl::Now()));
  EXPECT_EQ(tasks_->Get(running.id())->task.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(images_->Get(running.id(), 0).ok());
  // The freed slot admitted nothing: the queued task waits for the next start.
  EXPECT_TRUE(upstream_.generates.empty());
  EXPECT_EQ(tasks_->Get(queued.id())->task.state(), v1::TASK_STATE_QUEUED);
}

TEST_F(BillingTest, DrainStoresACreateReplyAndPollsNoMore) {
  v1::Task task = Create("qwen-image-plus");
  manager_->BeginDrain();
  EXPECT_FALSE(manager_->AwaitDrained(absl::Now()));
  AnswerCreate("up-drained");
  EXPECT_TRUE(manager_->AwaitDrained(absl::Now()));
  EXPECT_EQ(tasks_->Get(task.id())->task.upstream_task_id(), "up-drained");
  executor_.AdvanceBy(absl::Seconds(30));
  EXPECT_TRUE(upstream_.gets.empty());
}

TEST_F(BillingTest, RetryAfterIsACappedHint) {
  options_.max_retry_after = absl::Seconds(60);
  Restart();
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(Classified(dashscope::CallKind::kBilled,
                          {dashscope::Answer::Shape::kDashScope, 429, "Throttling.RateQuota"},
                          absl::Hours(24)));
  executor_.AdvanceBy(absl::Seconds(59));
  EXPECT_TRUE(upstream_.creates.empty());
  executor_.AdvanceBy(absl::Seconds(2));
  ASSERT_EQ(upstream_.creates.size(), 1u);
  AnswerCreate("up-1");
  // A task query answered 429 with a day-long Retry-After stalls polling a minute at most.
  executor_.AdvanceBy(options_.max_poll_interval);
  ASSERT_EQ(upstream_.gets.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.gets)
      .done(Classified(dashscope::CallKind::kFree,
                       {dashscope::Answer::Shape::kDashScope, 429, "Throttling.RateQuota"},
                       absl::Hours(24)));
  executor_.RunUntilIdle();
  executor_.AdvanceBy(absl::Seconds(61) + options_.max_poll_interval);
  EXPECT_EQ(upstream_.gets.size(), 1u);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
}

TEST_F(BillingTest, ARefusedKeyPausesWorkUntilItIsAcceptedAgain) {
  v1::Task a = Create("qwen-image-plus");
  executor_.AdvanceBy(absl::Milliseconds(1));
  v1::Task b = Create("qwen-image-plus");
  executor_.AdvanceBy(absl::Milliseconds(1));
  v1::Task c = Create("qwen-image-plus");  // queued behind the running limit
  ASSERT_EQ(upstream_.creates.size(), 2u);
  RefuseCreate(KeyRefused());
  RefuseCreate(KeyRefused());
  EXPECT_TRUE(manager_->CredentialsRefused());
  for (const v1::Task& t : {a, b, c}) EXPECT_EQ(Get(t.id()).state(), v1::TASK_STATE_QUEUED);
  EXPECT_TRUE(upstream_.creates.empty());  // nothing is sent while the key is refused
  // The probe (a free list call) still sees the key refused, then accepted.
  executor_.AdvanceBy(options_.key_probe_interval);
  ASSERT_EQ(upstream_.lists.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.lists)
      .done(Classified(dashscope::CallKind::kFree,
                       {dashscope::Answer::Shape::kDashScope, 401, "InvalidApiKey"}));
  executor_.RunUntilIdle();
  EXPECT_TRUE(upstream_.creates.empty());
  executor_.AdvanceBy(options_.key_probe_interval);
  ASSERT_EQ(upstream_.lists.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.lists).done(dashscope::TaskListPage{});
  executor_.RunUntilIdle();
  EXPECT_FALSE(manager_->CredentialsRefused());
  ASSERT_EQ(upstream_.creates.size(), 2u);  // in their order, within the running limit
  AnswerCreate("up-a");
  AnswerCreate("up-b");
  EXPECT_EQ(Get(a.id()).upstream_task_id(), "up-a");
  EXPECT_EQ(Get(b.id()).upstream_task_id(), "up-b");
  EXPECT_EQ(Get(c.id()).state(), v1::TASK_STATE_QUEUED);
}

TEST_F(BillingTest, QueuedTasksFailOnlyAfterTheKeyOutageTimeout) {
  options_.key_outage_timeout = absl::Minutes(1);
  Restart();
  v1::Task task = Create("qwen-image-plus");
  RefuseCreate(KeyRefused());
  executor_.AdvanceBy(absl::Seconds(59));  // the first probe stays unanswered
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_QUEUED);
  executor_.AdvanceBy(absl::Seconds(2));
  v1::Task failed = Get(task.id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "KeyOutage");
  EXPECT_TRUE(failed.error().retryable());
  EXPECT_TRUE(upstream_.creates.empty());
}

TEST_F(BillingTest, APollRefusedForTheKeyKeepsTheTask) {
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-1");
  executor_.AdvanceBy(options_.max_poll_interval);
  ASSERT_EQ(upstream_.gets.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.gets)
      .done(Classified(dashscope::CallKind::kFree,
                       {dashscope::Answer::Shape::kDashScope, 401, "InvalidApiKey"}));
  executor_.RunUntilIdle();
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_PENDING);
  executor_.AdvanceBy(options_.max_poll_interval);
  EXPECT_TRUE(upstream_.gets.empty());  // polls pause too
  manager_->ProbeCredentials();         // e.g. the key file changed
  executor_.RunUntilIdle();
  ASSERT_EQ(upstream_.lists.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.lists).done(dashscope::TaskListPage{});
  executor_.RunUntilIdle();
  AnswerPoll(TaskStatus::kSucceeded, {"https://x.aliyuncs.com/1.png"});
  AnswerDownloads(1328, 1328);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(BillingTest, ALostDownloadKeepsTheOtherImages) {
  options_.download_backoff.max_attempts = 2;
  Restart();
  v1::Task task = Create("qwen-image-2.0", "", /*n=*/2);
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"https://x.aliyuncs.com/0.png", "a cat", ""});
  result.images.push_back({"https://x.aliyuncs.com/1.png", "a cat", ""});
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  ASSERT_EQ(upstream_.downloads.size(), 2u);
  for (int attempt = 0; attempt < 2; ++attempt) {
    while (!upstream_.downloads.empty()) {
      auto call = testing::FakeUpstream::Pop(upstream_.downloads);
      const std::string good = FakePng(1024, 1024);
      // Image 1 arrives truncated every time; a cut PNG never passes as an image.
      call.done(call.arg.find("/1.png") != std::string::npos ? good.substr(0, good.size() / 2)
                                                              : good);
      executor_.RunUntilIdle();
    }
    executor_.AdvanceBy(options_.download_backoff.max);
  }
  v1::Task done = Get(task.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  ASSERT_EQ(done.images_size(), 1);
  EXPECT_EQ(done.images(0).index(), 0);
  ASSERT_EQ(done.image_errors_size(), 1);
  EXPECT_EQ(done.image_errors(0).index(), 1);
  EXPECT_EQ(done.image_errors(0).code(), "DownloadFailed");
  EXPECT_TRUE(images_->Get(task.id(), 0).ok());
  EXPECT_FALSE(images_->Get(task.id(), 1).ok());
}

TEST_F(BillingTest, ACancelledDownloadLeavesNoFiles) {
  v1::Task task = Create("qwen-image-2.0", "", /*n=*/2);
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"https://x.aliyuncs.com/0.png", "a cat", ""});
  result.images.push_back({"https://x.aliyuncs.com/1.png", "a cat", ""});
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  testing::FakeUpstream::Pop(upstream_.downloads).done(FakePng(1024, 1024));
  executor_.RunUntilIdle();
  ASSERT_TRUE(images_->Get(task.id(), 0).ok());  // one image already stored
  manager_->Cancel("tenant", task.id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();
  AnswerDownloads(1024, 1024);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_CANCELLED);
  EXPECT_FALSE(images_->Get(task.id(), 0).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/images/" + task.id()));
}

TEST_F(BillingTest, StartRemovesImagesWithoutASucceededTask) {
  ASSERT_TRUE(images_->Put("t-deleted-by-a-crash", 0, FakePng(8, 8)).ok());
  Restart();
  EXPECT_THAT(*images_->ListTaskIds(), ::testing::IsEmpty());
}

TEST_F(BillingTest, RestartKeepsEachTenantsOrder) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  Create("qwen-image-max");  // admitted: its call is cut short by the restart
  executor_.AdvanceBy(absl::Milliseconds(1));
  v1::Task first = Create("qwen-image-max");
  executor_.AdvanceBy(absl::Milliseconds(1));
  v1::Task second = Create("qwen-image-max");
  executor_.AdvanceBy(absl::Milliseconds(1));
  v1::Task third = Create("qwen-image-max");
  Restart();
  EXPECT_EQ(Get(first.id()).state(), v1::TASK_STATE_RUNNING);
  EXPECT_EQ(Get(second.id()).queue_position(), 1);
  EXPECT_EQ(Get(third.id()).queue_position(), 2);
}

TEST_F(BillingTest, ARestartKeepsImagesStoredBeforeTheEndWasWritten) {
  v1::Task task = Create("qwen-image-2.0", "", /*n=*/2);
  dashscope::UpstreamTask result;
  result.status = TaskStatus::kSucceeded;
  result.images.push_back({"https://x.aliyuncs.com/0.png", "a cat", "", 0});
  result.images.push_back({"https://x.aliyuncs.com/1.png", "a cat", "", 1});
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  flaky_.FailUpdates(1000);  // the end is never written before the process dies
  AnswerDownloads(1024, 1024);
  ASSERT_EQ(tasks_->Get(task.id())->task.state(), v1::TASK_STATE_RUNNING);
  flaky_.FailUpdates(0);
  Restart();
  v1::Task done = Get(task.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
  ASSERT_EQ(done.images_size(), 2);
  EXPECT_EQ(done.images(1).sha256(), store::Sha256Hex(FakePng(1024, 1024)));
  EXPECT_TRUE(images_->Get(task.id(), 1).ok());
  EXPECT_TRUE(upstream_.generates.empty());
}

TEST_F(BillingTest, AnInterruptedSyncCallIsNotRetryable) {
  v1::Task task = Create("qwen-image-max");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  Restart();
  v1::Task failed = Get(task.id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "Interrupted");
  EXPECT_FALSE(failed.error().retryable());
  EXPECT_TRUE(upstream_.generates.empty());
}

TEST_F(BillingTest, ADrainDuringTheMarkerWriteSendsNothing) {
  flaky_.FailUpdates(1);
  v1::Task task = Create("qwen-image-plus");
  manager_->BeginDrain();  // while the marker's write waits for its retry
  executor_.AdvanceBy(options_.store_retry.max);
  EXPECT_TRUE(upstream_.creates.empty());
  EXPECT_TRUE(manager_->AwaitDrained(absl::Now()));
  v1::Task stored = tasks_->Get(task.id())->task;
  EXPECT_EQ(stored.state(), v1::TASK_STATE_QUEUED);
  EXPECT_FALSE(stored.has_submit_time());  // the next start queues it again, not resolves it
}

TEST_F(BillingTest, DrainWaitsForTheReplyOfACancelledSyncCall) {
  v1::Task task = Create("qwen-image-max");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  manager_->Cancel("tenant", task.id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();
  ASSERT_EQ(Get(task.id()).state(), v1::TASK_STATE_CANCELLED);
  manager_->BeginDrain();
  EXPECT_FALSE(manager_->AwaitDrained(absl::Now()));  // its billed call is still out
  testing::FakeUpstream::Pop(upstream_.generates).done(LostReply());
  executor_.RunUntilIdle();
  EXPECT_TRUE(manager_->AwaitDrained(absl::Now()));
}

TEST_F(BillingTest, ACancelledCreateWithAnUnknownOutcomeStillClaimsItsUpstreamTask) {
  v1::Task task = Create("qwen-image-plus");
  manager_->Cancel("tenant", task.id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();
  RefuseCreate(ProxyGatewayError());
  AnswerList({Entry("up-cancelled")});
  AnswerGet(TaskStatus::kSucceeded);
  EXPECT_EQ(Get(task.id()).state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(*tasks_->FindByUpstreamId("up-cancelled"), task.id());  // never another's
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_EQ(manager_->RunningCount("qwen-image-plus"), 0);
}

TEST_F(BillingTest, TwoTasksWithTheSameRequestAreNotToldApart) {
  v1::Task first = Create("qwen-image-plus");
  v1::Task second = Create("qwen-image-plus");  // same prompt, n and model, same seconds
  ASSERT_EQ(upstream_.creates.size(), 2u);
  RefuseCreate(ProxyGatewayError());
  RefuseCreate(LostReply());
  // Only one create reached upstream; it proves both, so it is adopted by neither.
  executor_.AdvanceBy(options_.resolver.lookup_spacing);
  ASSERT_EQ(upstream_.lists.size(), 2u);
  while (!upstream_.lists.empty()) {
    dashscope::TaskListPage page;
    page.total = page.total_page = 1;
    page.data = {Entry("up-one")};
    testing::FakeUpstream::Pop(upstream_.lists).done(page);
    executor_.RunUntilIdle();
  }
  ASSERT_EQ(upstream_.gets.size(), 2u);
  AnswerGet(TaskStatus::kSucceeded);
  AnswerGet(TaskStatus::kSucceeded);
  ExpectOutcomeUnknown(Get(first.id()));
  ExpectOutcomeUnknown(Get(second.id()));
  EXPECT_TRUE(absl::IsNotFound(tasks_->FindByUpstreamId("up-one").status()));
  EXPECT_TRUE(upstream_.downloads.empty());
}

TEST_F(BillingTest, AKeyRefusedOnEverySubmitFailsAfterTheOutageTimeout) {
  options_.key_outage_timeout = absl::Seconds(10);
  Restart();
  v1::Task task = Create("qwen-image-plus");
  // The probe passes (list calls work) but every submission is refused: outages come and go.
  for (int round = 0; round < 10 && Get(task.id()).state() == v1::TASK_STATE_QUEUED; ++round) {
    ASSERT_EQ(upstream_.creates.size(), 1u) << round;
    RefuseCreate(KeyRefused());
    if (Get(task.id()).state() != v1::TASK_STATE_QUEUED) break;
    executor_.AdvanceBy(options_.key_probe_interval);
    ASSERT_EQ(upstream_.lists.size(), 1u);
    testing::FakeUpstream::Pop(upstream_.lists).done(dashscope::TaskListPage{});
    executor_.RunUntilIdle();
  }
  v1::Task failed = Get(task.id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "KeyOutage");
}

}  // namespace
}  // namespace qwenimage::tasks
