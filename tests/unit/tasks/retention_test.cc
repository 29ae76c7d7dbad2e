// Retention (--task_ttl, --image_ttl) through the TaskManager on a fake clock: what is deleted,
// what is kept, what GetTask and ReadImage then answer, and batches across sweeps.
#include "service/tasks/retention.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/tasks/convert.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

using ::testing::HasSubstr;

class CountingObserver : public TaskObserver {
 public:
  void OnTasksExpired(int count) override {
    tasks += count;
    task_calls.push_back(count);
  }
  void OnImagesExpired(int count) override { images += count; }
  std::atomic<int> tasks{0};
  std::atomic<int> images{0};
  std::vector<int> task_calls;  // the count of each sweep that deleted any
};

class RetentionTest : public TaskManagerTest {
 protected:
  // Restarts the manager with these retention settings (sweeps every minute from now).
  void Configure(absl::Duration task_ttl, absl::Duration image_ttl, int batch_size = 500) {
    options_.retention.task_ttl = task_ttl;
    options_.retention.image_ttl = image_ttl;
    options_.retention.sweep_interval = absl::Minutes(1);
    options_.retention.batch_size = batch_size;
    options_.observer = &observer_;
    Restart();
  }

  // A sync-model task that succeeded with one stored image, finished now.
  v1::Task Succeed(const std::string& request_id = "") {
    v1::Task task = Create("qwen-image-2.0", request_id);
    EXPECT_EQ(upstream_.generates.size(), 1u);
    if (upstream_.generates.empty()) return task;
    auto call = testing::FakeUpstream::Pop(upstream_.generates);
    dashscope::UpstreamTask result;
    result.status = TaskStatus::kSucceeded;
    result.request_id = "req-sync";
    result.images.push_back({"http://127.0.0.1/i.png", "", ""});
    result.image_count = 1;
    result.width = 1024;
    result.height = 1024;
    call.done(result);
    executor_.RunUntilIdle();
    AnswerDownloads(1024, 1024);
    v1::Task done = Get(task.id());
    EXPECT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED);
    EXPECT_TRUE(images_->Get(task.id(), 0).ok());
    return done;
  }

  bool Exists(const std::string& id) { return manager_->Get("tenant", id).ok(); }
  bool HasImageFiles(const std::string& id) {
    return std::filesystem::exists(dir_ + "/images/" + id);
  }

  CountingObserver observer_;
};

TEST_F(RetentionTest, TaskOlderThanTheTtlIsDeletedWithItsImagesAndAYoungerOneIsKept) {
  Configure(absl::Hours(1), absl::ZeroDuration());
  v1::Task old_task = Succeed();
  executor_.AdvanceBy(absl::Minutes(30));
  v1::Task young = Succeed();
  ASSERT_TRUE(HasImageFiles(old_task.id()));

  executor_.AdvanceBy(absl::Minutes(32));  // old: 62 min since its end, young: 32 min
  EXPECT_EQ(manager_->Get("tenant", old_task.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tasks_->Get(old_task.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(images_->Get(old_task.id(), 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(HasImageFiles(old_task.id()));
  EXPECT_TRUE(Exists(young.id()));
  EXPECT_TRUE(images_->Get(young.id(), 0).ok());
  EXPECT_EQ(observer_.tasks.load(), 1);
  EXPECT_EQ(observer_.images.load(), 0);

  executor_.AdvanceBy(absl::Minutes(30));
  EXPECT_FALSE(Exists(young.id()));
  EXPECT_FALSE(HasImageFiles(young.id()));
  EXPECT_EQ(observer_.tasks.load(), 2);
}

TEST_F(RetentionTest, CancelledTasksExpireToo) {
  Configure(absl::Hours(1), absl::ZeroDuration());
  v1::Task task = Create("qwen-image-plus");
  AnswerCreate("up-9");
  absl::StatusOr<v1::Task> cancelled;
  manager_->Cancel("tenant", task.id(), [&](absl::StatusOr<v1::Task> t) { cancelled = t; });
  executor_.RunUntilIdle();
  ASSERT_EQ(upstream_.cancels.size(), 1u);
  testing::FakeUpstream::Pop(upstream_.cancels).done(std::string("req-cancel"));
  executor_.RunUntilIdle();
  ASSERT_EQ(Get(task.id()).state(), v1::TASK_STATE_CANCELLED);
  executor_.AdvanceBy(absl::Minutes(62));
  EXPECT_FALSE(Exists(task.id()));
  EXPECT_EQ(observer_.tasks.load(), 1);
}

TEST_F(RetentionTest, NonTerminalTasksAreNeverTouched) {
  Configure(absl::Minutes(1), absl::Minutes(1));
  v1::Task queued = Create("qwen-image-plus");  // its create stays unanswered
  ASSERT_EQ(upstream_.creates.size(), 1u);
  executor_.AdvanceBy(absl::Hours(3));
  absl::StatusOr<store::TaskRecord> stored = tasks_->Get(queued.id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(IsTerminal(stored->task.state()));
  EXPECT_FALSE(stored->task.has_images_expire_time());
  EXPECT_TRUE(Exists(queued.id()));
  EXPECT_EQ(observer_.tasks.load(), 0);
  EXPECT_EQ(observer_.images.load(), 0);
}

TEST_F(RetentionTest, ImageExpiryKeepsTheRecordAndReadImageIsNotFound) {
  Configure(absl::Hours(1), absl::Minutes(10));
  v1::Task task = Succeed();
  executor_.AdvanceBy(absl::Minutes(5));
  ASSERT_TRUE(manager_->OpenImage("tenant", task.id(), 0).ok());

  executor_.AdvanceBy(absl::Minutes(7));
  v1::Task expired = Get(task.id());
  EXPECT_EQ(expired.state(), v1::TASK_STATE_SUCCEEDED);
  ASSERT_TRUE(expired.has_images_expire_time());
  EXPECT_GT(FromProto(expired.images_expire_time()), FromProto(task.end_time()) + absl::Minutes(10));
  EXPECT_LE(FromProto(expired.images_expire_time()), clock_.Now());
  // The record still describes the images, and its own retention still counts from its end.
  EXPECT_EQ(expired.images_size(), 1);
  EXPECT_EQ(expired.images(0).sha256(), task.images(0).sha256());
  EXPECT_EQ(FromProto(expired.update_time()), FromProto(task.update_time()));
  EXPECT_FALSE(HasImageFiles(task.id()));
  absl::StatusOr<ImageStream> read = manager_->OpenImage("tenant", task.id(), 0);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(),
              HasSubstr("the images of this task expired after --image_ttl"));
  EXPECT_EQ(observer_.images.load(), 1);
  EXPECT_EQ(observer_.tasks.load(), 0);

  // Later sweeps do not count it again; task_ttl then deletes the record.
  executor_.AdvanceBy(absl::Minutes(30));
  EXPECT_EQ(observer_.images.load(), 1);
  EXPECT_TRUE(Exists(task.id()));
  executor_.AdvanceBy(absl::Minutes(20));
  EXPECT_FALSE(Exists(task.id()));
  EXPECT_EQ(observer_.tasks.load(), 1);
}

TEST_F(RetentionTest, ImageTtlAloneNeverDeletesRecords) {
  Configure(absl::ZeroDuration(), absl::Minutes(10));
  v1::Task task = Succeed();
  executor_.AdvanceBy(absl::Hours(48));
  EXPECT_TRUE(Exists(task.id()));
  EXPECT_TRUE(Get(task.id()).has_images_expire_time());
  EXPECT_EQ(observer_.images.load(), 1);
  EXPECT_EQ(observer_.tasks.load(), 0);
}

TEST_F(RetentionTest, RequestIdIsRememberedExactlyAsLongAsItsTask) {
  Configure(absl::Hours(1), absl::ZeroDuration());
  v1::Task first = Succeed("req-1");
  executor_.AdvanceBy(absl::Minutes(30));
  // Still remembered: the same task, nothing sent upstream.
  EXPECT_EQ(Create("qwen-image-2.0", "req-1").id(), first.id());
  EXPECT_TRUE(upstream_.generates.empty());

  executor_.AdvanceBy(absl::Minutes(32));
  ASSERT_FALSE(Exists(first.id()));
  v1::Task second = Succeed("req-1");  // a new task, generated again
  EXPECT_NE(second.id(), first.id());
  EXPECT_EQ(second.request_id(), "req-1");
}

TEST_F(RetentionTest, BatchesContinueOnTheNextSweep) {
  Configure(absl::Minutes(10), absl::ZeroDuration(), /*batch_size=*/2);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Succeed().id());
  // Sweeps run each minute after the start; the tasks ended at the start. At +10 min none is
  // past the TTL yet (strictly before the cutoff); each sweep after that deletes one batch.
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_EQ(observer_.tasks.load(), 0);
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(observer_.tasks.load(), 2);
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(observer_.tasks.load(), 4);
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(observer_.tasks.load(), 5);
  EXPECT_EQ(observer_.task_calls, (std::vector<int>{2, 2, 1}));
  for (const std::string& id : ids) {
    EXPECT_FALSE(Exists(id)) << id;
    EXPECT_FALSE(HasImageFiles(id)) << id;
  }
}

TEST_F(RetentionTest, ImageBatchesContinueOnTheNextSweep) {
  Configure(absl::ZeroDuration(), absl::Minutes(10), /*batch_size=*/2);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Succeed().id());
  executor_.AdvanceBy(absl::Minutes(11));
  EXPECT_EQ(observer_.images.load(), 2);
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(observer_.images.load(), 3);
  for (const std::string& id : ids) {
    EXPECT_TRUE(Get(id).has_images_expire_time()) << id;
    EXPECT_FALSE(HasImageFiles(id)) << id;
  }
}

TEST_F(RetentionTest, NothingIsSweptWithBothTtlsZero) {
  Configure(absl::ZeroDuration(), absl::ZeroDuration());
  v1::Task task = Succeed();
  executor_.AdvanceBy(absl::Hours(24 * 400));
  EXPECT_TRUE(Exists(task.id()));
  EXPECT_TRUE(images_->Get(task.id(), 0).ok());
  EXPECT_FALSE(Get(task.id()).has_images_expire_time());
}

TEST_F(RetentionTest, StopsWithTheDrain) {
  Configure(absl::Minutes(10), absl::ZeroDuration());
  v1::Task task = Succeed();
  manager_->BeginDrain();
  executor_.AdvanceBy(absl::Hours(1));
  EXPECT_TRUE(Exists(task.id()));
}

TEST(RetentionOptionsTest, Validation) {
  RetentionOptions options;
  EXPECT_TRUE(ValidateRetentionOptions(options).ok());
  options.task_ttl = absl::Hours(24);
  options.image_ttl = absl::Hours(1);
  EXPECT_TRUE(ValidateRetentionOptions(options).ok());
  options.image_ttl = absl::Hours(25);
  EXPECT_EQ(ValidateRetentionOptions(options).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ValidateRetentionOptions(options).message(), HasSubstr("--image_ttl"));
  options.task_ttl = absl::ZeroDuration();  // images may expire while tasks are kept forever
  EXPECT_TRUE(ValidateRetentionOptions(options).ok());
  options.task_ttl = -absl::Seconds(1);
  EXPECT_FALSE(ValidateRetentionOptions(options).ok());
  options.task_ttl = absl::Hours(30);
  options.sweep_interval = absl::ZeroDuration();
  EXPECT_FALSE(ValidateRetentionOptions(options).ok());
  options.sweep_interval = absl::Minutes(1);
  options.batch_size = 0;
  EXPECT_FALSE(ValidateRetentionOptions(options).ok());
}

}  // namespace
}  // namespace qwenimage::tasks
