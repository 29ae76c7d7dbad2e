// Cancellation in every state, against the simulator with its account limits on (one running
// task per model, so a second task waits upstream in PENDING).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

class CancelTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.simulator.limits = true;
    options_.simulator.running_limit = 1;
    options_.simulator.task_duration = {absl::Seconds(30), absl::Seconds(30)};
    // The gateway lets more through than upstream runs, so that tasks wait upstream.
    options_.tasks.scheduler.default_limits = {4, 2};
    StartGateway();
  }

  // Opens a watch on `task_id` and reads until the task reaches `state`.
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> WatchUntil(grpc::ClientContext* ctx,
                                                                const std::string& task_id,
                                                                v1::TaskState state) {
    v1::WatchTaskRequest req;
    req.set_task_id(task_id);
    auto reader = stub_->WatchTask(ctx, req);
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task() && event.task().state() == state) return reader;
    }
    ADD_FAILURE() << "stream ended before " << v1::TaskState_Name(state);
    return reader;
  }

  v1::Task Cancel(const std::string& task_id) {
    v1::CancelTaskRequest req;
    req.set_task_id(task_id);
    v1::Task task;
    grpc::Status s = stub_->CancelTask(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  // Reads the rest of a stream; returns the last task state seen.
  static v1::TaskState Drain(grpc::ClientReader<v1::TaskEvent>* reader) {
    v1::TaskEvent event;
    v1::TaskState last = v1::TASK_STATE_UNSPECIFIED;
    while (reader->Read(&event)) {
      if (event.has_task()) last = event.task().state();
    }
    EXPECT_TRUE(reader->Finish().ok());
    return last;
  }
};

TEST_F(CancelTest, PendingTaskIsCancelledUpstreamAndRunningTaskLocally) {
  v1::Task running = Create(Spec("qwen-image-plus", "first"));
  auto ctx1 = Context();
  auto r1 = WatchUntil(ctx1.get(), running.id(), v1::TASK_STATE_RUNNING);
  v1::Task pending = Create(Spec("qwen-image-plus", "second"));
  auto ctx2 = Context();
  auto r2 = WatchUntil(ctx2.get(), pending.id(), v1::TASK_STATE_PENDING);

  v1::Task cancelled = Cancel(pending.id());
  EXPECT_EQ(cancelled.state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(Drain(r2.get()), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).cancels_ok, 1);

  cancelled = Cancel(running.id());
  EXPECT_EQ(cancelled.state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(cancelled.error().code(), "Cancelled");
  EXPECT_EQ(Drain(r1.get()), v1::TASK_STATE_CANCELLED);
  // Upstream cannot cancel a running task: the gateway did not try.
  SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.Requests("task_cancel", "400"), 0);
  EXPECT_EQ(stats.throttled, 0);
  // Cancelling again returns the finished task unchanged.
  EXPECT_EQ(Cancel(running.id()).state(), v1::TASK_STATE_CANCELLED);
}

TEST_F(CancelTest, QueuedTaskLeavesTheQueueAtOnce) {
  options_.tasks.scheduler.default_limits = {1, 2};
  gateway_.reset();
  StartGateway();
  v1::Task first = Create(Spec("qwen-image-plus", "first"));
  v1::Task queued = Create(Spec("qwen-image-plus", "second"));
  EXPECT_EQ(queued.state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(queued.queue_position(), 1);
  EXPECT_EQ(Cancel(queued.id()).state(), v1::TASK_STATE_CANCELLED);
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub_->ListModels(Context().get(), v1::ListModelsRequest(), &models).ok());
  for (const v1::Model& m : models.models()) {
    if (m.name() == "qwen-image-plus") {
      EXPECT_EQ(m.queued_tasks(), 0);
    }
  }
  Cancel(first.id());
  EXPECT_LE(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
}

}  // namespace
}  // namespace qwenimage::testing
