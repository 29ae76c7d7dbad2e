// GatewayProcessTest: the real qwen-image-gateway binary as a child process, pointed at an
// in-process simulator, for tests that kill, signal or restart it on the same data directory.
#ifndef QWENIMAGE_TESTS_INTEGRATION_GATEWAY_PROCESS_FIXTURE_H_
#define QWENIMAGE_TESTS_INTEGRATION_GATEWAY_PROCESS_FIXTURE_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/simulator/simulator.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {

class GatewayProcessTest : public ::testing::Test {
 protected:
  static constexpr char kApiKey[] = "sk-process-test";

  void SetUp() override {
    dir_ = ::testing::TempDir() + "/process_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    simulator::SimulatorOptions sim;
    sim.api_keys = {kApiKey};
    sim.task_duration = {absl::Seconds(3), absl::Seconds(3)};
    sim_ = *simulator::Simulator::Start(sim);
  }

  // Starts the gateway on free ports (appending its stderr to gateway.log) and points stub_ at it.
  std::unique_ptr<Subprocess> StartGateway(const std::vector<std::string>& extra_flags = {}) {
    std::vector<std::string> argv = {QWENIMAGE_GATEWAY_BINARY,
                                     "--listen=127.0.0.1:0",
                                     "--metrics_listen=127.0.0.1:0",
                                     "--data_dir=" + dir_,
                                     "--dashscope_base_url=" + sim_->base_url(),
                                     "--allow_loopback_downloads",
                                     "--auth=none",
                                     "--insecure"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    auto gw = std::make_unique<Subprocess>(
        argv, std::vector<std::string>{std::string("DASHSCOPE_API_KEY=") + kApiKey},
        dir_ + "/gateway.log");
    int port = gw->WaitForNumberAfter("listening on port ");
    EXPECT_GT(port, 0) << "gateway did not start; see " << dir_ << "/gateway.log";
    stub_ = v1::ImageService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials()));
    return gw;
  }

  // Creates an async task and opens a watch that has seen its upstream id (PENDING or later).
  v1::Task CreateAndWaitUntilSubmitted(
      grpc::ClientContext* watch_ctx,
      std::unique_ptr<grpc::ClientReader<v1::TaskEvent>>* reader) {
    v1::CreateTaskRequest create;
    create.mutable_spec()->set_model("qwen-image-plus");
    create.mutable_spec()->set_prompt("a harbour in fog");
    v1::Task task;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
    v1::WatchTaskRequest watch;
    watch.set_task_id(task.id());
    *reader = stub_->WatchTask(watch_ctx, watch);
    v1::TaskEvent event;
    while ((*reader)->Read(&event)) {
      if (event.has_task() && !event.task().upstream_task_id().empty()) return event.task();
    }
    ADD_FAILURE() << "the task never got an upstream id";
    return task;
  }

  // Watches a task to its end and returns the last snapshot.
  v1::Task WatchToEnd(const std::string& task_id) {
    grpc::ClientContext ctx;
    v1::WatchTaskRequest watch;
    watch.set_task_id(task_id);
    auto reader = stub_->WatchTask(&ctx, watch);
    v1::TaskEvent event;
    v1::Task last;
    while (reader->Read(&event)) {
      if (event.has_task()) last = event.task();
    }
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return last;
  }

  std::string Log() const {
    std::ifstream in(dir_ + "/gateway.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string dir_;
  std::unique_ptr<simulator::Simulator> sim_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_INTEGRATION_GATEWAY_PROCESS_FIXTURE_H_
