// The gateway against a simulator with the real account limits switched on and faults injected
// on every endpoint: every task still ends SUCCEEDED (retries), upstream never runs more than
// the running limit, and terminal upstream errors keep their codes.
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "service/simulator/simulator.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

class LimitsFaultsTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    simulator::SimulatorOptions sim;
    sim.api_keys = {"sk-limits-test"};
    sim.limits = true;
    sim.running_limit = 2;
    sim.submit_rate = {{"qwen-image-plus", 2}, {"qwen-image", 2}};
    sim.default_submit_rate = 2;
    sim.task_api_qps = 20;
    sim.task_duration = {absl::Milliseconds(100), absl::Milliseconds(300)};
    sim.random_seed = 20261123;
    simulator::FaultRates create_faults;
    create_faults.internal_error = 0.2;
    create_faults.unavailable = 0.1;
    create_faults.throttle = 0.1;
    sim.faults["image-synthesis"] = create_faults;
    sim.faults["generation"] = create_faults;
    simulator::FaultRates get_faults;
    get_faults.unavailable = 0.1;
    get_faults.throttle = 0.05;
    get_faults.malformed = 0.05;
    sim.faults["task_get"] = get_faults;
    simulator::FaultRates image_faults;
    image_faults.internal_error = 0.15;
    sim.faults["image"] = image_faults;
    sim_ = *simulator::Simulator::Start(sim);

    options_.simulate = false;
    options_.transport.insecure = true;
    options_.api_key = "sk-limits-test";
    options_.dashscope_base_url = sim_->base_url();
    options_.allow_loopback_downloads = true;
    options_.tasks.scheduler.default_limits = {2, 2};
    options_.tasks.submit_backoff = {absl::Milliseconds(20), absl::Milliseconds(200), 12};
    options_.tasks.download_backoff = {absl::Milliseconds(20), absl::Milliseconds(200), 12};
    StartGateway();
  }

  void TearDown() override {
    GatewayFixture::TearDown();
    sim_.reset();
  }

  std::unique_ptr<simulator::Simulator> sim_;
};

TEST_F(LimitsFaultsTest, EveryTaskSucceedsWithinTheLimitsDespiteFaults) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Create(Spec("qwen-image-plus", "async " + std::to_string(i))).id());
  }
  for (int i = 0; i < 4; ++i) {
    ids.push_back(Create(Spec("qwen-image-max", "sync " + std::to_string(i))).id());
  }
  std::vector<v1::Task> finals(ids.size());
  std::vector<std::thread> watchers;
  for (size_t i = 0; i < ids.size(); ++i) {
    watchers.emplace_back([&, i] { finals[i] = WatchToEnd(ids[i]).back(); });
  }
  for (std::thread& t : watchers) t.join();
  for (const v1::Task& t : finals) {
    EXPECT_EQ(t.state(), v1::TASK_STATE_SUCCEEDED)
        << t.id() << " " << t.error().code() << ": " << t.error().message();
    EXPECT_EQ(t.images_size(), 1);
  }
  SimStats stats = FetchSimStats(sim_->base_url());
  EXPECT_LE(stats.peak_running_max, 2) << stats.json;
  // Faults were really injected (the test would prove nothing otherwise).
  EXPECT_GT(stats.Requests("image-synthesis", "500") + stats.Requests("generation", "500") +
                stats.Requests("task_get", "503"),
            0)
      << stats.json;
}

TEST_F(LimitsFaultsTest, TerminalErrorsKeepTheirUpstreamCodes) {
  v1::Task moderated = Create(Spec("qwen-image-plus", "a cat [sim:moderation]"));
  v1::Task task_failed = Create(Spec("qwen-image-plus", "a cat [sim:task_fail=InternalError]"));
  v1::Task m = WatchToEnd(moderated.id()).back();
  EXPECT_EQ(m.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(m.error().code(), "DataInspectionFailed");
  EXPECT_EQ(m.error().http_status(), 400);
  EXPECT_FALSE(m.error().retryable());
  v1::Task f = WatchToEnd(task_failed.id()).back();
  EXPECT_EQ(f.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(f.error().code(), "InternalError");
  EXPECT_TRUE(f.error().retryable());
}

}  // namespace
}  // namespace qwenimage::testing
