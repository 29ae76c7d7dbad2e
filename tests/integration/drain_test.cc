// The real gateway binary under signals: SIGTERM tells a running WatchTask to reconnect, ends it
// with OK and exits 0; the restarted gateway finishes the task without re-submitting it. And
// SIGUSR1 raises the log level at runtime.
#include <signal.h>

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
