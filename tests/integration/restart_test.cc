// A gateway process killed mid-task (SIGKILL, no chance to clean up) is restarted on the same
// data directory: it resumes polling and finishes the task without a second upstream create.
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

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/restart_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    simulator::SimulatorOptions sim;
    sim.api_keys = {"sk-restart-test"};
    sim.task_duration = {absl::Seconds(3), absl::Seconds(3)};
    sim_ = *simulator::Simulator::Start(sim);
  }

  std::unique_ptr<Subprocess> StartGateway() {
    auto gw = std::make_unique<Subprocess>(
        std::vector<std::string>{QWENIMAGE_GATEWAY_BINARY, "--listen=127.0.0.1:0",
                                 "--metrics_listen=127.0.0.1:0", "--data_dir=" + dir_, "--dashscope_base_url=" + sim_->base_url(),
                                 "--allow_loopback_downloads"},
        std::vector<std::string>{"DASHSCOPE_API_KEY=sk-restart-test"}, dir_ + "/gateway.log");
    int port = gw->WaitForNumberAfter("listening on port ");
    EXPECT_GT(port, 0) << "gateway did not start; see " << dir_ << "/gateway.log";
    stub_ = v1::ImageService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials()));
    return gw;
  }

  std::string dir_;
  std::unique_ptr<simulator::Simulator> sim_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

TEST_F(RestartTest, KilledGatewayResumesTheTaskWithoutResubmitting) {
  auto gateway = StartGateway();
  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-plus");
  create.mutable_spec()->set_prompt("a lighthouse at dusk");
  v1::Task task;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
  }
  // Wait until the gateway has the upstream task id (PENDING or RUNNING), then kill it.
  {
    grpc::ClientContext ctx;
    v1::WatchTaskRequest watch;
    watch.set_task_id(task.id());
    auto reader = stub_->WatchTask(&ctx, watch);
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task() && !event.task().upstream_task_id().empty()) break;
    }
    gateway->Signal(SIGKILL);
    gateway->Wait();
    ctx.TryCancel();
  }
  ASSERT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);

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
  EXPECT_EQ(last.images_size(), 1);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
}

TEST_F(RestartTest, RefusesToStartWithoutAKey) {
  Subprocess gw({QWENIMAGE_GATEWAY_BINARY, "--listen=127.0.0.1:0", "--metrics_listen=",
                 "--data_dir=" + dir_},
                {"DASHSCOPE_API_KEY="}, dir_ + "/nokey.log");
  EXPECT_NE(gw.Wait(), 0);
  std::ifstream log(dir_ + "/nokey.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("DASHSCOPE_API_KEY"), std::string::npos) << text;
  EXPECT_NE(text.find("--dashscope_api_key_file"), std::string::npos) << text;
  EXPECT_NE(text.find("--simulate"), std::string::npos) << text;
}

}  // namespace
}  // namespace qwenimage::testing
