// TaskManager with input images (an edit) on a fake upstream, a fake clock and a manual
// executor: the inputs are stored before the task, sent as data URIs in order, survive a restart
// while queued, and a lost one fails the task without any upstream call.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/simulator/images.h"
#include "service/store/image_key.h"
#include "service/store/sha256.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;

class TaskManagerEditTest : public TaskManagerTest {
 protected:
  static v1::InputImage Upload(const std::string& bytes) {
    v1::InputImage in;
    in.set_data(bytes);
    in.set_content_type("image/png");  // as api::TakeInputImages sets it
    in.set_width(512);
    in.set_height(512);
    return in;
  }
  static v1::InputImage Link(const std::string& url) {
    v1::InputImage in;
    in.set_url(url);
    return in;
  }
  static std::string DataUri(const std::string& bytes) {
    return absl::StrCat("data:image/png;base64,", absl::Base64Escape(bytes));
  }

  absl::StatusOr<v1::Task> CreateEdit(std::vector<v1::InputImage> inputs,
                                      const std::string& request_id = "") {
    dashscope::GenerationParams p = Params("qwen-image-edit-plus");
    p.size.clear();
    absl::StatusOr<v1::Task> t =
        manager_->Create("tenant", quotas_, request_id, p, std::move(inputs));
    executor_.RunUntilIdle();
    return t;
  }

  const std::string a_ = simulator::RenderPng(512, 512, 1);
  const std::string b_ = simulator::RenderPng(512, 512, 2);
};

TEST_F(TaskManagerEditTest, InputsAreSentInOrderAsDataUrisAndUrls) {
  absl::StatusOr<v1::Task> task =
      CreateEdit({Upload(a_), Link("https://example.com/x.png"), Upload(b_)});
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_EQ(upstream_.generates.size(), 1u);
  EXPECT_THAT(upstream_.generates.front().params.images,
              ElementsAre(DataUri(a_), "https://example.com/x.png", DataUri(b_)));
  EXPECT_EQ(upstream_.generates.front().params.size, "");
  // Recorded without bytes, stored beside the results.
  const v1::Task stored = Get(task->id());
  ASSERT_EQ(stored.spec().input_images_size(), 3);
  EXPECT_TRUE(stored.spec().input_images(0).data().empty());
  EXPECT_EQ(stored.spec().input_images(0).sha256(), store::Sha256Hex(a_));
  EXPECT_EQ(stored.spec().input_images(1).url(), "https://example.com/x.png");
  EXPECT_EQ(*images_->Get(task->id(), store::InputImageIndex(2)), b_);
}

TEST_F(TaskManagerEditTest, AQueuedEditKeepsItsInputsOverARestart) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  ASSERT_TRUE(CreateEdit({Upload(a_)}).ok());        // takes the one slot
  absl::StatusOr<v1::Task> queued = CreateEdit({Upload(b_)});
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(Get(queued->id()).state(), v1::TASK_STATE_QUEUED);
  Restart();  // the first ends Interrupted (a sync call cut short); the second is sent now
  ASSERT_EQ(upstream_.generates.size(), 1u);
  EXPECT_THAT(upstream_.generates.front().params.images, ElementsAre(DataUri(b_)));
}

TEST_F(TaskManagerEditTest, ALostInputFailsTheTaskWithoutAnUpstreamCall) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  ASSERT_TRUE(CreateEdit({Upload(a_)}).ok());
  absl::StatusOr<v1::Task> queued = CreateEdit({Upload(b_)});
  ASSERT_TRUE(queued.ok());
  ASSERT_TRUE(images_->DeleteTask(queued->id()).ok());
  upstream_.generates.clear();
  Restart();
  const v1::Task failed = Get(queued->id());
  EXPECT_EQ(failed.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(failed.error().code(), "InputImageLost");
  EXPECT_FALSE(failed.error().retryable());
  EXPECT_TRUE(upstream_.generates.empty());
}

TEST_F(TaskManagerEditTest, ChangedInputBytesAreNotSent) {
  options_.scheduler.default_limits = {1, 0};
  Restart();
  ASSERT_TRUE(CreateEdit({Upload(a_)}).ok());
  absl::StatusOr<v1::Task> queued = CreateEdit({Upload(b_)});
  ASSERT_TRUE(queued.ok());
  ASSERT_TRUE(images_->Put(queued->id(), store::InputImageIndex(0), a_).ok());
  Restart();
  EXPECT_EQ(Get(queued->id()).error().code(), "InputImageLost");
  EXPECT_TRUE(upstream_.generates.empty());
}

TEST_F(TaskManagerEditTest, AnIdempotentRepeatStoresNothingMore) {
  absl::StatusOr<v1::Task> first = CreateEdit({Upload(a_)}, "req-1");
  ASSERT_TRUE(first.ok());
  absl::StatusOr<v1::Task> again = CreateEdit({Upload(a_)}, "req-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), first->id());
  EXPECT_EQ(*images_->ListTaskIds(), std::vector<std::string>{first->id()});
  absl::StatusOr<v1::Task> other = CreateEdit({Upload(b_)}, "req-1");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*images_->ListTaskIds(), std::vector<std::string>{first->id()});
  EXPECT_EQ(upstream_.generates.size(), 1u);
}

TEST_F(TaskManagerEditTest, AReferenceToAnotherTenantsImageIsNotFound) {
  v1::Task generated = Create("qwen-image-2.0");
  ASSERT_EQ(upstream_.generates.size(), 1u);
  dashscope::UpstreamTask result;
  result.status = dashscope::TaskStatus::kSucceeded;
  result.images.push_back({"https://dashscope-result.oss.aliyuncs.com/1.png", "a cat", "", 0});
  result.image_count = 1;
  testing::FakeUpstream::Pop(upstream_.generates).done(result);
  executor_.RunUntilIdle();
  AnswerDownloads(512, 512);
  ASSERT_EQ(Get(generated.id()).state(), v1::TASK_STATE_SUCCEEDED);
  v1::InputImage ref;
  ref.set_task_image(absl::StrCat("qwenimage://tasks/", generated.id(), "/images/0"));
  dashscope::GenerationParams p = Params("qwen-image-2.0");
  absl::StatusOr<v1::Task> theirs = manager_->Create("intruder", quotas_, "", p, {ref});
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Task> mine = manager_->Create("tenant", quotas_, "", p, {ref});
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->spec().input_images(0).sha256(), store::Sha256Hex(FakePng(512, 512)));
}

}  // namespace
}  // namespace qwenimage::tasks
