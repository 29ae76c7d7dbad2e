// The real gateway binary under signals: SIGTERM tells a running WatchTask to reconnect, ends it
// with OK and exits 0; the restarted gateway finishes the task without re-submitting it; a sync
// call in flight is waited for and its images stored before the process exits. SIGHUP re-reads
// the key file, and SIGUSR1 raises the log level at runtime.
#include <signal.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/gateway_process_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

class DrainTest : public GatewayProcessTest {
 protected:
  std::unique_ptr<Subprocess> StartGatewayAt(const std::string& log_level) {
    return StartGateway({"--log_format=json", "--log_level=" + log_level, "--drain_grace=5s"});
  }
};

TEST_F(DrainTest, SigtermTellsWatchersToReconnectAndTheRestartFinishesTheTask) {
  auto gateway = StartGatewayAt("info");
  v1::Task task;
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader;
    task = CreateAndWaitUntilSubmitted(&ctx, &reader);
    ASSERT_FALSE(task.upstream_task_id().empty());
    gateway->Signal(SIGTERM);
    bool reconnect = false;
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_reconnect()) reconnect = true;
    }
    EXPECT_TRUE(reconnect);
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(gateway->Wait(), 0) << Log();

  gateway = StartGatewayAt("info");
  EXPECT_EQ(WatchToEnd(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
  EXPECT_EQ(Log().find(kApiKey), std::string::npos);
}

// Blocks until the task reaches `state` (or ends), through a watch.
v1::Task WatchUntil(v1::ImageService::Stub& stub, const std::string& task_id,
                    v1::TaskState state) {
  grpc::ClientContext ctx;
  v1::WatchTaskRequest watch;
  watch.set_task_id(task_id);
  auto reader = stub.WatchTask(&ctx, watch);
  v1::TaskEvent event;
  v1::Task last;
  while (reader->Read(&event)) {
    if (!event.has_task()) continue;
    last = event.task();
    if (last.state() == state || last.state() >= v1::TASK_STATE_SUCCEEDED) break;
  }
  ctx.TryCancel();
  reader->Finish();
  return last;
}

TEST_F(DrainTest, SigtermWaitsForASyncCallInFlightAndStoresItsImages) {
  auto gateway = StartGateway({"--drain_grace=60s"});
  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-max");
  create.mutable_spec()->set_prompt("a lighthouse at dusk");
  v1::Task task;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
  }
  // The 3 s call is in flight upstream when the drain begins.
  ASSERT_EQ(WatchUntil(*stub_, task.id(), v1::TASK_STATE_RUNNING).state(),
            v1::TASK_STATE_RUNNING);
  gateway->Signal(SIGTERM);
  EXPECT_EQ(gateway->Wait(), 0) << Log();
  EXPECT_NE(Log().find("billed work in flight finished and stored"), std::string::npos) << Log();

  gateway = StartGateway();
  grpc::ClientContext ctx;
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  v1::Task stored;
  ASSERT_TRUE(stub_->GetTask(&ctx, get, &stored).ok());
  ASSERT_EQ(stored.state(), v1::TASK_STATE_SUCCEEDED) << stored.error().message();
  ASSERT_EQ(stored.images_size(), 1);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).sync_generations, 1);  // never sent again
}

TEST_F(DrainTest, SighupRereadsTheKeyFileAndRefusedWorkResumes) {
  const std::string key_file = dir_ + "/api-key";
  { std::ofstream(key_file) << "sk-revoked-long-ago\n"; }
  auto gateway = StartGateway({"--dashscope_api_key_file=" + key_file,
                               "--api_key_poll_interval=1h"});  // only SIGHUP re-reads it here
  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-plus");
  create.mutable_spec()->set_prompt("a kite over dunes");
  v1::Task task;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
  }
  // Refused for the key: it waits, QUEUED, and is not failed.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (Log().find("paused") == std::string::npos && absl::Now() < give_up) {
    grpc::ClientContext ctx;
    v1::GetTaskRequest get;
    get.set_task_id(task.id());
    v1::Task now;
    ASSERT_TRUE(stub_->GetTask(&ctx, get, &now).ok());
    ASSERT_EQ(now.state(), v1::TASK_STATE_QUEUED);
  }
  ASSERT_NE(Log().find("paused"), std::string::npos) << Log();
  { std::ofstream(key_file) << kApiKey << "\n"; }
  gateway->Signal(SIGHUP);
  EXPECT_EQ(WatchToEnd(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
  const std::string log = Log();
  EXPECT_NE(log.find("API key replaced"), std::string::npos) << log;
  EXPECT_EQ(log.find(kApiKey), std::string::npos);
  EXPECT_EQ(log.find("sk-revoked-long-ago"), std::string::npos);
}

TEST_F(DrainTest, Sigusr1RaisesTheLogLevelAtRuntime) {
  // At warn, the "draining" info line is not written...
  {
    auto gateway = StartGatewayAt("warn");
    gateway->Signal(SIGTERM);
    ASSERT_EQ(gateway->Wait(), 0);
  }
  EXPECT_EQ(Log().find("draining"), std::string::npos) << Log();
  // ...after SIGUSR1 it is. Linux delivers the lower-numbered SIGUSR1 before SIGTERM even when
  // both are pending, and one thread takes them in that order.
  auto gateway = StartGatewayAt("warn");
  gateway->Signal(SIGUSR1);
  gateway->Signal(SIGTERM);
  ASSERT_EQ(gateway->Wait(), 0);
  const std::string log = Log();
  EXPECT_NE(log.find("log level now info"), std::string::npos) << log;
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
}

}  // namespace
}  // namespace qwenimage::testing
