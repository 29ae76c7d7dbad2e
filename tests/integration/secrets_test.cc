// The gateway process keeps its secrets to itself: the API key taken from the environment
// leaves no copy in /proc/<pid>/environ, core dumps are off, and the process is non-dumpable.
#include <sys/prctl.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server/process_hardening.h"
#include "tests/integration/gateway_process_fixture.h"

namespace qwenimage::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadProcFile(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using SecretsTest = GatewayProcessTest;

TEST_F(SecretsTest, TheKeyFromTheEnvironmentIsErasedAndCoreDumpsAreOff) {
  std::unique_ptr<Subprocess> gw = StartGateway();
  const std::string environ = ReadProcFile(gw->pid(), "environ");
  ASSERT_FALSE(environ.empty()) << "cannot read the gateway's environment";
  EXPECT_THAT(environ, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(environ, Not(HasSubstr("DASHSCOPE_API_KEY=sk")));
  // "Max core file size            0                    0                    bytes"
  const std::string limits = ReadProcFile(gw->pid(), "limits");
  EXPECT_THAT(limits, ::testing::ContainsRegex("Max core file size +0 +0 "));
  // The key is still in use: the gateway works.
  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-plus");
  create.mutable_spec()->set_prompt("a lighthouse");
  v1::Task task;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->CreateTask(&ctx, create, &task).ok());
  EXPECT_EQ(WatchToEnd(task.id()).state(), v1::TASK_STATE_SUCCEEDED);
}

TEST(ProcessHardeningTest, MakesTheProcessNonDumpable) {
  ASSERT_TRUE(server::HardenProcess().ok());
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

TEST(ProcessHardeningTest, TakeSecretFromEnvironmentWipesAndUnsets) {
  ASSERT_EQ(::setenv("QWENIMAGE_TEST_SECRET", "sk-wipe-me-123", 1), 0);
  char* before = std::getenv("QWENIMAGE_TEST_SECRET");
  ASSERT_NE(before, nullptr);
  std::optional<std::string> taken = server::TakeSecretFromEnvironment("QWENIMAGE_TEST_SECRET");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(*taken, "sk-wipe-me-123");
  EXPECT_EQ(std::getenv("QWENIMAGE_TEST_SECRET"), nullptr);
  EXPECT_FALSE(server::TakeSecretFromEnvironment("QWENIMAGE_TEST_SECRET").has_value());
}

}  // namespace
}  // namespace qwenimage::testing
