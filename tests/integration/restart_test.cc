// A gateway process killed mid-task (SIGKILL, no chance to clean up) is restarted on the same
// data directory: it resumes polling and finishes the task without a second upstream create.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/gateway_process_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using RestartTest = GatewayProcessTest;

TEST_F(RestartTest, KilledGatewayResumesTheTaskWithoutResubmitting) {
  auto gateway = StartGateway();
  v1::Task task;
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader;
    task = CreateAndWaitUntilSubmitted(&ctx, &reader);
    gateway->Signal(SIGKILL);
    gateway->Wait();
    ctx.TryCancel();
  }
  ASSERT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);

  gateway = StartGateway();
  v1::Task last = WatchToEnd(task.id());
  EXPECT_EQ(last.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(last.images_size(), 1);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
}

TEST_F(RestartTest, RefusesToStartWithoutAKey) {
  Subprocess gw({QWENIMAGE_GATEWAY_BINARY, "--listen=127.0.0.1:0", "--metrics_listen=",
                 "--data_dir=" + dir_, "--insecure"},
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
