#include "service/metrics/metrics_server.h"

#include <memory>

#include "gtest/gtest.h"
#include "service/metrics/task_metrics.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::metrics {
namespace {

TEST(MetricsServerTest, ServesTheRegistryAndExtraCollectablesOnAPickedPort) {
  Metrics metrics;
  metrics.tasks_created.Add({{"model", "qwen-image"}}).Increment();
  auto gauges =
      std::make_shared<QueueGauges>(std::vector<std::string>{"qwen-image"}, [](const std::string&) {
        return QueueGauges::Counts{2, 1};
      });
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0", metrics, {gauges});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  std::string body =
      testing::HttpGet("http://127.0.0.1:" + std::to_string((*server)->port()) + "/metrics");
  EXPECT_NE(body.find(R"(qwenimage_tasks_created_total{model="qwen-image"} 1)"), std::string::npos)
      << body;
  EXPECT_NE(body.find(R"(qwenimage_tasks_queued{model="qwen-image"} 2)"), std::string::npos);
  EXPECT_NE(body.find("qwenimage_build_info{"), std::string::npos);
}

TEST(MetricsServerTest, ReportsAnAddressInUse) {
  Metrics metrics;
  auto first = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(first.ok());
  auto second = MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), metrics);
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace qwenimage::metrics
