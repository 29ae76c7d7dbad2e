#include "service/tasks/create_resolver.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/rate_limiter.h"
#include "service/dashscope/errors.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

using dashscope::TaskStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kModel[] = "qwen-image-plus";
constexpr char kPrompt[] = "a cat";

// Forwards to a FakeUpstream and logs every call, with the list queries in full (FakeUpstream
// keeps only their model).
class LoggingUpstream final : public dashscope::Upstream {
 public:
  explicit LoggingUpstream(testing::FakeUpstream& fake) : fake_(fake) {}

  void Generate(const dashscope::GenerationParams& params,
                dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override {
    log.push_back("Generate");
    fake_.Generate(params, std::move(done));
  }
  void CreateTask(const dashscope::GenerationParams& params,
                  dashscope::UpstreamCallback<dashscope::CreatedTask> done) override {
    log.push_back("CreateTask");
    fake_.CreateTask(params, std::move(done));
  }
  void GetTask(const std::string& task_id,
               dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override {
    log.push_back("GetTask " + task_id);
    fake_.GetTask(task_id, std::move(done));
  }
  void ListTasks(const dashscope::TaskListQuery& query,
                 dashscope::UpstreamCallback<dashscope::TaskListPage> done) override {
    log.push_back(absl::StrCat("ListTasks page ", query.page_no));
    queries.push_back(query);
    fake_.ListTasks(query, std::move(done));
  }
  void CancelTask(const std::string& task_id,
                  dashscope::UpstreamCallback<std::string> done) override {
    log.push_back("CancelTask " + task_id);
    fake_.CancelTask(task_id, std::move(done));
  }
  void Download(const std::string& url, dashscope::UpstreamCallback<std::string> done) override {
    log.push_back("Download " + url);
    fake_.Download(url, std::move(done));
  }

  std::vector<std::string> log;
  std::vector<dashscope::TaskListQuery> queries;

 private:
  testing::FakeUpstream& fake_;
};

class CreateResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.empty_lookups = 3;
    options_.lookup_spacing = absl::Seconds(2);
    options_.skew = absl::Seconds(2);
    options_.window_margin = absl::Seconds(5);
    options_.candidate_poll = absl::Seconds(3);
    options_.max_wait = absl::Minutes(30);
    // The create left 30 s ago and timed out now.
    sent_ = clock_.Now() - absl::Seconds(30);
    failed_ = clock_.Now();
  }

  void Resolve(int n = 1) {
    resolver_ = std::make_unique<CreateResolver>(
        options_, upstream_, budget_, executor_, clock_,
        [this](const std::string& id) { return held_.count(id) > 0; });
    CreateResolver::Request request;
    request.model = kModel;
    request.prompt = kPrompt;
    request.n = n;
    request.sent = sent_;
    request.failed = failed_;
    resolver_->Resolve(
        std::move(request), [this](TaskStatus s) { progress_.push_back(s); },
        [this](CreateResolver::Result r) {
          ++done_calls_;
          result_ = std::move(r);
        });
    executor_.RunUntilIdle();
  }

  // Moves time on, a second at a time, until a call reaches upstream or the resolver is done;
  // false if `limit` passes first.
  bool AwaitCall(absl::Duration limit = absl::Hours(2)) {
    for (absl::Duration waited; waited <= limit; waited += absl::Seconds(1)) {
      executor_.RunUntilIdle();
      if (!fake_.lists.empty() || !fake_.gets.empty() || done_calls_ > 0) return true;
      executor_.AdvanceBy(absl::Seconds(1));
    }
    return false;
  }

  static dashscope::TaskListEntry Entry(const std::string& id, std::optional<absl::Time> created,
                                        const std::string& model = kModel) {
    dashscope::TaskListEntry e;
    e.task_id = id;
    e.status = TaskStatus::kRunning;
    e.model_name = model;
    e.request_id = "req-" + id;
    e.gmt_create = created;
    return e;
  }

  // An entry created between the send and the failure.
  dashscope::TaskListEntry InWindow(const std::string& id) {
    return Entry(id, sent_ + absl::Seconds(1));
  }

  void AnswerList(absl::StatusOr<std::vector<dashscope::TaskListEntry>> entries,
                  int total_page = 1) {
    ASSERT_TRUE(AwaitCall());
    ASSERT_EQ(fake_.lists.size(), 1u) << "no list call pending";
    ASSERT_TRUE(fake_.gets.empty());
    auto call = testing::FakeUpstream::Pop(fake_.lists);
    EXPECT_EQ(call.arg, kModel);
    if (!entries.ok()) {
      call.done(entries.status());
    } else {
      dashscope::TaskListPage page;
      page.total = static_cast<int>(entries->size());
      page.total_page = total_page;
      page.page_no = upstream_.queries.back().page_no;
      page.page_size = upstream_.queries.back().page_size;
      page.request_id = "req-list";
      page.data = *std::move(entries);
      call.done(std::move(page));
    }
    executor_.RunUntilIdle();
  }

  static dashscope::UpstreamTask Polled(TaskStatus status,
                                      const std::vector<std::string>& orig_prompts = {},
                                      int failures = 0) {
    dashscope::UpstreamTask t;
    t.status = status;
    t.request_id = "req-get";
    for (size_t i = 0; i < orig_prompts.size(); ++i) {
      t.images.push_back({absl::StrCat("https://oss/", i, ".png"), orig_prompts[i], "rewritten"});
    }
    for (int i = 0; i < failures; ++i) {
      t.failures.push_back({static_cast<int>(orig_prompts.size()) + i, "DataInspectionFailed",
                            "refused"});
    }
    t.image_count = static_cast<int>(orig_prompts.size());
    return t;
  }

  // Answers the next poll, which must be of `id`.
  void AnswerGet(const std::string& id, absl::StatusOr<dashscope::UpstreamTask> reply) {
    ASSERT_TRUE(AwaitCall());
    ASSERT_EQ(fake_.gets.size(), 1u) << "no poll pending for " << id;
    ASSERT_TRUE(fake_.lists.empty());
    auto call = testing::FakeUpstream::Pop(fake_.gets);
    ASSERT_EQ(call.arg, id);
    if (reply.ok()) reply->task_id = "";  // as parsed: the resolver must fill it in
    call.done(std::move(reply));
    executor_.RunUntilIdle();
  }

  // Nothing else reaches upstream, however long it waits.
  void ExpectQuiet() {
    executor_.AdvanceBy(absl::Hours(2));
    EXPECT_TRUE(fake_.lists.empty());
    EXPECT_TRUE(fake_.gets.empty());
  }

  CreateResolverOptions options_;
  absl::Time sent_;
  absl::Time failed_;
  std::set<std::string> held_;  // upstream ids other gateway tasks hold

  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
  testing::FakeUpstream fake_;
  LoggingUpstream upstream_{fake_};
  RateLimiter budget_{clock_, 0, 1};  // unlimited
  std::unique_ptr<CreateResolver> resolver_;

  std::vector<TaskStatus> progress_;
  int done_calls_ = 0;
  std::optional<CreateResolver::Result> result_;
};

TEST_F(CreateResolverTest, AdoptsTheOneProvenCandidateAfterItRan) {
  const absl::Time start = clock_.Now();
  Resolve();
  // The first look waits: upstream may not list a task it is still creating.
  EXPECT_TRUE(fake_.lists.empty());
  AnswerList(std::vector{InWindow("up-1")});
  ASSERT_EQ(upstream_.queries.size(), 1u);
  const dashscope::TaskListQuery& q = upstream_.queries[0];
  EXPECT_GE(clock_.Now(), start + options_.lookup_spacing);
  EXPECT_EQ(q.model_name, kModel);
  EXPECT_EQ(q.page_no, 1);
  EXPECT_EQ(q.start_time, sent_ - options_.window_margin);
  ASSERT_TRUE(q.end_time.has_value());
  EXPECT_GE(*q.end_time, failed_ + options_.window_margin);

  AnswerGet("up-1", Polled(TaskStatus::kRunning));
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kRunning));
  EXPECT_EQ(done_calls_, 0);
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-1");
  EXPECT_EQ(result_->adopted->status, TaskStatus::kSucceeded);
  ASSERT_EQ(result_->adopted->images.size(), 1u);
  EXPECT_EQ(result_->adopted->images[0].url, "https://oss/0.png");
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  // Progress is reported between rounds only: the finished round ends in the result.
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kRunning));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-1"));
  EXPECT_EQ(done_calls_, 1);
}

TEST_F(CreateResolverTest, ProgressIsTheMostAdvancedStatusAmongRunningCandidates) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1"), InWindow("up-2")});
  AnswerGet("up-1", Polled(TaskStatus::kPending));
  AnswerGet("up-2", Polled(TaskStatus::kPending));
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kPending));
  AnswerGet("up-1", Polled(TaskStatus::kPending));
  AnswerGet("up-2", Polled(TaskStatus::kRunning));
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kPending, TaskStatus::kRunning));
  // A finished candidate is not polled again.
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {"a dog"}));
  AnswerGet("up-2", Polled(TaskStatus::kRunning));
  AnswerGet("up-2", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-2");
  EXPECT_THAT(result_->candidates, ElementsAre("up-1", "up-2"));
  EXPECT_THAT(progress_,
              ElementsAre(TaskStatus::kPending, TaskStatus::kRunning, TaskStatus::kRunning));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log,
              ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-2", "GetTask up-1",
                          "GetTask up-2", "GetTask up-1", "GetTask up-2", "GetTask up-2"));
}

TEST_F(CreateResolverTest, WrongPromptIsUnprovenAndListsTheCandidate) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {"a dog"}));

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  EXPECT_THAT(result_->why, HasSubstr("none finished with this request's prompt"));
  EXPECT_THAT(progress_, IsEmpty());
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, OneImageWithAnotherPromptIsUnproven) {
  Resolve(/*n=*/2);
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt, "a dog"}));
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, WrongImageCountIsUnproven) {
  Resolve(/*n=*/2);
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  EXPECT_THAT(result_->why, HasSubstr("image count"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, MoreImagesThanRequestedIsUnproven) {
  Resolve(/*n=*/1);
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt, kPrompt}));
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, FailedSubImagesCountTowardTheImageCount) {
  Resolve(/*n=*/2);
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}, /*failures=*/1));
  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-1");
  EXPECT_EQ(result_->adopted->failures.size(), 1u);
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, FailedCandidateIsNotAdopted) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});
  dashscope::UpstreamTask failed = Polled(TaskStatus::kFailed);
  failed.code = "InternalError";
  AnswerGet("up-1", failed);
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, TwoProvenCandidatesAreUnproven) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1"), InWindow("up-2")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  AnswerGet("up-2", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1", "up-2"));
  EXPECT_THAT(result_->why, HasSubstr("cannot tell"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-2"));
}

TEST_F(CreateResolverTest, OnlyTasksOfTheModelCreatedInTheSendWindowAreCandidates) {
  Resolve();
  AnswerList(std::vector{
      Entry("too-early", sent_ - options_.skew - absl::Seconds(1)),
      Entry("first", sent_ - options_.skew),    // the earliest a clock skew allows
      Entry("last", failed_ + options_.skew),   // the latest
      Entry("too-late", failed_ + options_.skew + absl::Seconds(1)),
      Entry("other-model", sent_ + absl::Seconds(1), "wanx2.1-t2i-turbo"),
      Entry("no-create-time", std::nullopt),
  });
  AnswerGet("first", Polled(TaskStatus::kSucceeded, {"a dog"}));
  AnswerGet("last", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "last");
  EXPECT_THAT(result_->candidates, ElementsAre("first", "last"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask first", "GetTask last"));
}

TEST_F(CreateResolverTest, TaskCreatedBeforeTheSendOrAfterTheFailureIsNoCandidate) {
  options_.empty_lookups = 1;
  Resolve();
  AnswerList(std::vector{Entry("before", sent_ - options_.skew - absl::Seconds(1)),
                         Entry("after", failed_ + options_.skew + absl::Seconds(1))});

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, IsEmpty());
  EXPECT_THAT(result_->why, HasSubstr("no upstream task"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1"));
}

TEST_F(CreateResolverTest, CandidateHeldElsewhereIsSkipped) {
  held_.insert("up-held");
  Resolve();
  AnswerList(std::vector{InWindow("up-held"), InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-1");
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, OnlyCandidateHeldElsewhereIsNoCandidate) {
  options_.empty_lookups = 2;
  held_.insert("up-held");
  Resolve();
  AnswerList(std::vector{InWindow("up-held")});
  AnswerList(std::vector{InWindow("up-held")});
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, IsEmpty());
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 1"));
}

TEST_F(CreateResolverTest, CandidateTakenElsewhereWhileItRunsIsNotAdopted) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kRunning));
  // Another gateway task claims it (its own create reply said up-1) before it finishes.
  held_.insert("up-1");
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, NoCandidateAfterEmptyLookupsIsUnproven) {
  options_.empty_lookups = 3;
  Resolve();
  AnswerList(std::vector<dashscope::TaskListEntry>{});
  EXPECT_EQ(done_calls_, 0);
  AnswerList(std::vector<dashscope::TaskListEntry>{});
  EXPECT_EQ(done_calls_, 0);
  AnswerList(std::vector<dashscope::TaskListEntry>{});

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, IsEmpty());
  EXPECT_THAT(result_->why, HasSubstr("no upstream task"));
  EXPECT_THAT(progress_, IsEmpty());
  ExpectQuiet();
  EXPECT_THAT(upstream_.log,
              ElementsAre("ListTasks page 1", "ListTasks page 1", "ListTasks page 1"));
}

TEST_F(CreateResolverTest, CandidateSeenOnALaterLookIsPolled) {
  Resolve();
  AnswerList(std::vector<dashscope::TaskListEntry>{});
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, FailedListIsRetriedAndIsNoEmptyLook) {
  options_.empty_lookups = 2;
  Resolve();
  dashscope::UpstreamError e;
  e.kind = dashscope::UpstreamError::Kind::kRetryable;
  e.http_status = 500;
  e.code = "InternalError";
  e.message = "list failed";
  e.status_code = absl::StatusCode::kUnavailable;
  AnswerList(dashscope::UpstreamErrorStatus(e));
  EXPECT_EQ(done_calls_, 0);
  AnswerList(absl::UnavailableError("connection reset"));
  EXPECT_EQ(done_calls_, 0);
  AnswerList(std::vector<dashscope::TaskListEntry>{});
  EXPECT_EQ(done_calls_, 0);  // one empty look of two
  AnswerList(std::vector<dashscope::TaskListEntry>{});

  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 1",
                                         "ListTasks page 1", "ListTasks page 1"));
}

TEST_F(CreateResolverTest, FailedListThenCandidateIsAdopted) {
  Resolve();
  AnswerList(absl::UnavailableError("connection reset"));
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-1");
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, ListFailingUntilMaxWaitIsUnproven) {
  options_.max_wait = absl::Seconds(10);
  Resolve();
  int lists = 0;
  while (done_calls_ == 0) {
    ASSERT_LT(lists, 100);
    AnswerList(absl::UnavailableError("connection reset"));
    ++lists;
  }
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->why, HasSubstr("kept failing"));
  // One look every lookup_spacing from the start until max_wait: 2, 4, 6, 8, 10 s.
  EXPECT_EQ(lists, 5);
  ExpectQuiet();
  EXPECT_EQ(upstream_.log.size(), 5u);
}

TEST_F(CreateResolverTest, FetchesEveryPage) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")}, /*total_page=*/2);
  EXPECT_TRUE(fake_.gets.empty());  // not before the last page
  AnswerList(std::vector{InWindow("up-2")}, /*total_page=*/2);
  ASSERT_EQ(upstream_.queries.size(), 2u);
  EXPECT_EQ(upstream_.queries[0].page_no, 1);
  EXPECT_EQ(upstream_.queries[1].page_no, 2);
  EXPECT_EQ(upstream_.queries[1].start_time, upstream_.queries[0].start_time);
  EXPECT_EQ(upstream_.queries[1].model_name, kModel);
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {"a dog"}));
  AnswerGet("up-2", Polled(TaskStatus::kSucceeded, {kPrompt}));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-2");
  EXPECT_THAT(result_->candidates, ElementsAre("up-1", "up-2"));
  ExpectQuiet();
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 2", "GetTask up-1",
                                         "GetTask up-2"));
}

TEST_F(CreateResolverTest, NextLookStartsAgainAtPageOne) {
  options_.empty_lookups = 2;
  Resolve();
  AnswerList(std::vector{Entry("old", sent_ - absl::Minutes(1))}, /*total_page=*/2);
  AnswerList(std::vector{Entry("old-2", sent_ - absl::Minutes(2))}, /*total_page=*/2);
  AnswerList(std::vector{InWindow("up-1")}, /*total_page=*/2);
  AnswerList(std::vector<dashscope::TaskListEntry>{}, /*total_page=*/2);
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 2",
                                         "ListTasks page 1", "ListTasks page 2", "GetTask up-1"));
}

// Upstream lists the newest first; a task created between two page fetches shifts the list, so
// the last entry of page 1 comes again at the top of page 2. It is still one candidate.
TEST_F(CreateResolverTest, TaskListedOnTwoPagesIsOneCandidate) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")}, /*total_page=*/2);
  AnswerList(std::vector{InWindow("up-1")}, /*total_page=*/2);
  // Every remaining poll of up-1 says it succeeded with this request's prompt.
  while (done_calls_ == 0) {
    ASSERT_LT(upstream_.log.size(), 10u);
    AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  }
  ASSERT_EQ(done_calls_, 1);
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_EQ(result_->adopted->task_id, "up-1");
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "ListTasks page 2", "GetTask up-1"));
}

TEST_F(CreateResolverTest, MaxWaitWhileTheCandidateStillRunsIsUnproven) {
  options_.max_wait = absl::Seconds(10);
  options_.candidate_poll = absl::Seconds(3);
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});  // at 2 s
  int polls = 0;
  while (done_calls_ == 0) {
    ASSERT_LT(polls, 100);
    AnswerGet("up-1", Polled(TaskStatus::kRunning));
    ++polls;
  }
  ASSERT_EQ(done_calls_, 1);
  EXPECT_FALSE(result_->adopted.has_value());
  EXPECT_THAT(result_->candidates, ElementsAre("up-1"));
  // Polled at 2, 5, 8 and 11 s; the round that ends past max_wait (10 s) decides.
  EXPECT_EQ(polls, 4);
  EXPECT_THAT(progress_,
              ElementsAre(TaskStatus::kRunning, TaskStatus::kRunning, TaskStatus::kRunning));
  ExpectQuiet();
  EXPECT_EQ(upstream_.log.size(), 5u);
}

// The header's contract: candidates still running at max_wait make it unproven. One proven
// candidate is not enough while another, still running, may yet finish with the same prompt.
TEST_F(CreateResolverTest, MaxWaitWithAnotherCandidateStillRunningIsUnproven) {
  options_.max_wait = absl::Seconds(10);
  options_.candidate_poll = absl::Seconds(3);
  Resolve();
  AnswerList(std::vector{InWindow("up-1"), InWindow("up-2")});
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  int polls = 0;
  while (done_calls_ == 0) {
    ASSERT_LT(polls, 100);
    AnswerGet("up-2", Polled(TaskStatus::kRunning));
    ++polls;
  }
  ASSERT_EQ(done_calls_, 1);
  EXPECT_THAT(result_->candidates, ElementsAre("up-1", "up-2"));
  EXPECT_FALSE(result_->adopted.has_value())
      << "adopted " << result_->adopted->task_id << " while up-2 still ran";
  ExpectQuiet();
}

TEST_F(CreateResolverTest, FailedPollIsRepeatedNextRound) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", absl::UnavailableError("connection reset"));
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kPending));
  AnswerGet("up-1", Polled(TaskStatus::kSucceeded, {kPrompt}));
  ASSERT_EQ(done_calls_, 1);
  ASSERT_TRUE(result_->adopted.has_value()) << result_->why;
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-1"));
}

TEST_F(CreateResolverTest, StopBeforeTheFirstLookSendsNothing) {
  Resolve();
  resolver_->Stop();
  resolver_->Stop();  // idempotent
  ExpectQuiet();
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(upstream_.log, IsEmpty());
}

TEST_F(CreateResolverTest, StopWhileListingSendsNothingMoreAndReportsNothing) {
  Resolve();
  ASSERT_TRUE(AwaitCall());
  ASSERT_EQ(fake_.lists.size(), 1u);
  resolver_->Stop();
  dashscope::TaskListPage page;
  page.total_page = 1;
  page.data.push_back(InWindow("up-1"));
  testing::FakeUpstream::Pop(fake_.lists).done(std::move(page));
  ExpectQuiet();
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(progress_, IsEmpty());
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1"));
}

TEST_F(CreateResolverTest, StopWhileAnEmptyLookIsAnsweredReportsNothing) {
  options_.empty_lookups = 1;
  Resolve();
  ASSERT_TRUE(AwaitCall());
  resolver_->Stop();
  testing::FakeUpstream::Pop(fake_.lists).done(dashscope::TaskListPage{});
  ExpectQuiet();
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1"));
}

TEST_F(CreateResolverTest, StopWhilePollingSendsNothingMoreAndReportsNothing) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1"), InWindow("up-2")});
  AnswerGet("up-1", Polled(TaskStatus::kRunning));
  ASSERT_TRUE(AwaitCall());
  ASSERT_EQ(fake_.gets.size(), 1u);
  resolver_->Stop();
  testing::FakeUpstream::Pop(fake_.gets).done(Polled(TaskStatus::kSucceeded, {kPrompt}));
  ExpectQuiet();
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(progress_, IsEmpty());
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1", "GetTask up-2"));
}

TEST_F(CreateResolverTest, StopBetweenRoundsSendsNoFurtherPoll) {
  Resolve();
  AnswerList(std::vector{InWindow("up-1")});
  AnswerGet("up-1", Polled(TaskStatus::kRunning));
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kRunning));
  resolver_->Stop();  // the next round's poll is scheduled
  ExpectQuiet();
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(progress_, ElementsAre(TaskStatus::kRunning));
  EXPECT_THAT(upstream_.log, ElementsAre("ListTasks page 1", "GetTask up-1"));
}

}  // namespace
}  // namespace qwenimage::tasks
