// The real gateway binary under signals: SIGTERM tells a running WatchTask to reconnect, ends it
// with OK and exits 0; the restarted gateway finishes the task without re-submitting it. And
// SIGUSR1 raises the log level at runtime.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/simulator/simulator.h"
#include "tests/testing/sim_stats.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {
namespace {

class DrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/drain_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    simulator::SimulatorOptions sim;
    sim.api_keys = {"sk-drain-test"};
    sim.task_duration = {absl::Seconds(3), absl::Seconds(3)};
    sim_ = *simulator::Simulator::Start(sim);
  }

  std::unique_ptr<Subprocess> StartGateway(const std::string& log_level = "info") {
    auto gw = std::make_unique<Subprocess>(
        std::vector<std::string>{QWENIMAGE_GATEWAY_BINARY, "--listen=127.0.0.1:0",
                                 "--metrics_listen=127.0.0.1:0", "--data_dir=" + dir_,
                                 "--dashscope_base_url=" + sim_->base_url(),
                                 "--allow_loopback_downloads", "--log_format=json",
                                 "--log_level=" + log_level, "--drain_grace=5s"},
        std::vector<std::string>{"DASHSCOPE_API_KEY=sk-drain-test"}, dir_ + "/gateway.log");
    int port = gw->WaitForNumberAfter("listening on port ");
    EXPECT_GT(port, 0) << "gateway did not start; see " << dir_ << "/gateway.log";
    stub_ = v1::ImageService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials()));
    return gw;
  }

  std::string Log() {
    std::ifstream in(dir_ + "/gateway.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string dir_;
  std::unique_ptr<simulator::Simulator> sim_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

TEST_F(DrainTest, SigtermTellsWatchersToReconnectAndTheRestartFinishesTheTask) {
  auto gateway = StartGateway();
  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-plus");
  create.mutable_spec()->set_prompt("a harbour in fog");
  v1::Task task;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::WatchTaskRequest watch;
    watch.set_task_id(task.id());
    auto reader = stub_->WatchTask(&ctx, watch);
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task() && !event.task().upstream_task_id().empty()) break;
    }
    ASSERT_FALSE(event.task().upstream_task_id().empty());
    gateway->Signal(SIGTERM);
    bool reconnect = false;
    while (reader->Read(&event)) {
      if (event.has_reconnect()) reconnect = true;
    }
    EXPECT_TRUE(reconnect);
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(gateway->Wait(), 0) << Log();

  gateway = StartGateway();
  grpc::ClientContext ctx;
  v1::WatchTaskRequest watch;
  watch.set_task_id(task.id());
  auto reader = stub_->WatchTask(&ctx, watch);
  v1::TaskEvent event;
  v1::Task last;
  while (reader->Read(&event)) {
    if (event.has_task()) last = event.task();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(last.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
  EXPECT_EQ(Log().find("sk-drain-test"), std::string::npos);
}

TEST_F(DrainTest, Sigusr1RaisesTheLogLevelAtRuntime) {
  // At warn, the "draining" info line is not written...
  {
    auto gateway = StartGateway("warn");
    gateway->Signal(SIGTERM);
    ASSERT_EQ(gateway->Wait(), 0);
  }
  EXPECT_EQ(Log().find("draining"), std::string::npos) << Log();
  // ...after SIGUSR1 it is. Linux delivers the lower-numbered SIGUSR1 before SIGTERM even when
  // both are pending, and one thread takes them in that order.
  auto gateway = StartGateway("warn");
  gateway->Signal(SIGUSR1);
  gateway->Signal(SIGTERM);
  ASSERT_EQ(gateway->Wait(), 0);
  const std::string log = Log();
  EXPECT_NE(log.find("log level now info"), std::string::npos) << log;
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
}

}  // namespace
}  // namespace qwenimage::testing
