// Retention through gRPC: with short --image_ttl and --task_ttl, a finished task first loses its
// image files (GetTask shows images_expire_time, ReadImage is NOT_FOUND), then the task itself
// (GetTask NOT_FOUND) — and its request_id then makes a new task that is submitted again.
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using ::testing::HasSubstr;

class RetentionIntegrationTest : public GatewayFixture {
 protected:
  grpc::Status GetTask(const std::string& id, v1::Task* task) {
    v1::GetTaskRequest req;
    req.set_task_id(id);
    return stub_->GetTask(Context().get(), req, task);
  }

  // Polls GetTask until `done` holds for its answer, or the deadline passes.
  template <typename Pred>
  bool PollUntil(const std::string& id, Pred done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      v1::Task task;
      grpc::Status s = GetTask(id, &task);
      if (done(s, task)) return true;
      absl::SleepFor(absl::Milliseconds(50));  // between polls, not a wait for the condition
    }
    return false;
  }

  bool HasImageFiles(const std::string& id) {
    return std::filesystem::exists(std::filesystem::path(data_dir_) / "images" / id);
  }
};

TEST_F(RetentionIntegrationTest, ImagesThenTasksExpireAndTheRequestIdIsFreed) {
  options_.tasks.retention.image_ttl = absl::Seconds(1);
  options_.tasks.retention.task_ttl = absl::Seconds(3);
  options_.tasks.retention.sweep_interval = absl::Milliseconds(200);
  StartGateway();

  v1::Task task = Create(Spec("qwen-image-plus"), "req-retained");
  ASSERT_EQ(WatchToEnd(task.id()).back().state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(HasImageFiles(task.id()));
  EXPECT_FALSE(ReadImage(task.id(), 0).empty());

  // --image_ttl: the files go, the record stays and says so.
  v1::Task expired;
  ASSERT_TRUE(PollUntil(task.id(), [&](const grpc::Status& s, const v1::Task& t) {
    if (s.ok() && t.has_images_expire_time()) expired = t;
    return s.ok() && t.has_images_expire_time();
  }));
  EXPECT_EQ(expired.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(expired.images_size(), 1);
  EXPECT_FALSE(HasImageFiles(task.id()));
  {
    v1::ReadImageRequest req;
    req.set_task_id(task.id());
    req.set_index(0);
    auto ctx = Context();
    auto reader = stub_->ReadImage(ctx.get(), req);
    v1::ReadImageResponse chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("the images of this task expired after --image_ttl"));
  }

  // --task_ttl: the task goes, and with it its request_id.
  ASSERT_TRUE(PollUntil(task.id(), [](const grpc::Status& s, const v1::Task&) {
    return s.error_code() == grpc::StatusCode::NOT_FOUND;
  }));
  EXPECT_FALSE(HasImageFiles(task.id()));
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
  v1::Task again = Create(Spec("qwen-image-plus"), "req-retained");
  EXPECT_NE(again.id(), task.id());
  EXPECT_EQ(WatchToEnd(again.id()).back().state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 2);
}

TEST_F(RetentionIntegrationTest, ImageTtlLongerThanTaskTtlIsRefusedAtStart) {
  options_.tasks.retention.image_ttl = absl::Hours(2);
  options_.tasks.retention.task_ttl = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  // main.cc validates the flags; the gateway itself must not start with them either.
  EXPECT_FALSE(gw.ok());
}

}  // namespace
}  // namespace qwenimage::testing
