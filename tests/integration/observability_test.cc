// Metrics, health and log redaction of an in-process gateway driven over gRPC against the
// embedded simulator.
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/logging/logging.h"
#include "spdlog/sinks/ostream_sink.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class ObservabilityTest : public GatewayFixture {
 protected:
  std::string Scrape() {
    return HttpGet("http://127.0.0.1:" + std::to_string(gateway_->metrics_port()) + "/metrics");
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(health->Check(&ctx, req, &resp).ok());
    return resp.status();
  }
};

TEST_F(ObservabilityTest, SeriesMoveWithAWorkload) {
  options_.metrics_listen = "127.0.0.1:0";
  StartGateway();
  ASSERT_GT(gateway_->metrics_port(), 0);
  v1::Task task = Create(Spec("qwen-image-max"));
  std::vector<v1::Task> events = WatchToEnd(task.id());
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().state(), v1::TASK_STATE_SUCCEEDED);

  std::string text = Scrape();
  EXPECT_EQ(SampleValue(text, R"(qwenimage_tasks_created_total{model="qwen-image-max"})"), 1)
      << text;
  EXPECT_EQ(
      SampleValue(text,
                  R"(qwenimage_tasks_finished_total{model="qwen-image-max",state="SUCCEEDED"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_grpc_server_handled_total{code="OK",method="/qwenimage.v1.ImageService/CreateTask"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_grpc_server_handled_total{code="OK",method="/qwenimage.v1.ImageService/WatchTask"})"),
      1);
  EXPECT_EQ(
      SampleValue(text,
                  R"(qwenimage_upstream_requests_total{code="",endpoint="generate",status="2xx"})"),
      1);
  EXPECT_EQ(
      SampleValue(text, R"(qwenimage_task_upstream_run_seconds_count{model="qwen-image-max"})"), 1);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_task_download_seconds_count{model="qwen-image-max"})"),
            1);
  EXPECT_GE(SampleValue(text, "qwenimage_images_stored_total").value_or(0), 1);
  EXPECT_GT(SampleValue(text, "qwenimage_image_stored_bytes_total").value_or(0), 0);
  EXPECT_EQ(SampleValue(text, "qwenimage_upstream_task_query_budget_per_second"), 20);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_tasks_queued{model="qwen-image-max"})"), 0);
  EXPECT_EQ(SampleValue(text, "qwenimage_draining"), 0);
}

TEST_F(ObservabilityTest, OpenWatchStreamsAreCounted) {
  options_.metrics_listen = "127.0.0.1:0";
  options_.simulator.task_duration = {absl::Seconds(2), absl::Seconds(2)};
  StartGateway();
  v1::Task task = Create(Spec("qwen-image-max"));
  v1::WatchTaskRequest req;
  req.set_task_id(task.id());
  auto ctx = Context();
  auto reader = stub_->WatchTask(ctx.get(), req);
  v1::TaskEvent first;
  ASSERT_TRUE(reader->Read(&first));  // the snapshot: the call is running
  EXPECT_EQ(
      SampleValue(
          Scrape(),
          R"(qwenimage_grpc_server_streams_in_flight{method="/qwenimage.v1.ImageService/WatchTask"})"),
      1);
  v1::TaskEvent event;
  while (reader->Read(&event)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(ObservabilityTest, ReadyOnlyOnceUpstreamAnswersAndNotDuringDrain) {
  options_.metrics_listen = "127.0.0.1:0";
  // Long enough that the task is still upstream when the drain begins.
  options_.simulator.task_duration = {absl::Seconds(30), absl::Seconds(30)};
  StartGateway();
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("qwenimage.v1.ImageService"), HealthCheckResponse::SERVING);
  EXPECT_EQ(SampleValue(Scrape(), "qwenimage_draining"), 0);

  // Open before the drain: a health watch and a task watch.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext health_ctx;
  HealthCheckRequest health_req;
  health_req.set_service("qwenimage.v1.ImageService");
  auto health_watch = health->Watch(&health_ctx, health_req);
  HealthCheckResponse status;
  ASSERT_TRUE(health_watch->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::SERVING);
  v1::Task task = Create(Spec("qwen-image-plus"));
  v1::WatchTaskRequest watch_req;
  watch_req.set_task_id(task.id());
  auto watch_ctx = Context();
  auto task_watch = stub_->WatchTask(watch_ctx.get(), watch_req);
  v1::TaskEvent event;
  ASSERT_TRUE(task_watch->Read(&event));  // the snapshot: the stream is registered
  ASSERT_TRUE(event.has_task());

  std::thread drain([this] { gateway_->Shutdown(absl::Seconds(5)); });
  // The task stream is told to reconnect, then closed with OK before the task ended.
  bool reconnect = false;
  while (task_watch->Read(&event)) {
    if (event.has_reconnect()) reconnect = true;
    if (event.has_task()) {
      EXPECT_FALSE(reconnect) << "a task event after the reconnect notice";
      EXPECT_NE(event.task().state(), v1::TASK_STATE_SUCCEEDED);
    }
  }
  EXPECT_TRUE(reconnect);
  grpc::Status watch_status = task_watch->Finish();
  EXPECT_TRUE(watch_status.ok()) << watch_status.error_message();
  // The health watch hears NOT_SERVING before it ends.
  std::vector<HealthCheckResponse::ServingStatus> heard;
  while (health_watch->Read(&status)) heard.push_back(status.status());
  health_watch->Finish();
  EXPECT_EQ(heard,
            std::vector<HealthCheckResponse::ServingStatus>{HealthCheckResponse::NOT_SERVING});
  drain.join();

  EXPECT_EQ(SampleValue(Scrape(), "qwenimage_draining"), 1);
  // Drained: no new calls are taken.
  HealthCheckResponse after;
  grpc::ClientContext check_ctx;
  check_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_FALSE(health->Check(&check_ctx, health_req, &after).ok());
}

TEST_F(ObservabilityTest, NotReadyWhileUpstreamIsUnreachable) {
  options_.simulate = false;
  options_.transport.insecure = true;
  options_.api_key = "sk-unreachable-test";
  options_.dashscope_base_url = "http://127.0.0.1:1/api/v1";  // nothing listens on port 1
  options_.upstream_probe_interval = absl::Milliseconds(100);
  StartGateway();
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);  // alive
  EXPECT_EQ(Health("qwenimage.v1.ImageService"), HealthCheckResponse::NOT_SERVING);
}

TEST_F(ObservabilityTest, LogsNeverCarryTheKeyOrThePrompt) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_formatter(logging::MakeJsonFormatter());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  const std::string prompt = "a lighthouse PROMPT-MARKER-7f3a at dusk";
  StartGateway();
  for (const char* model : {"qwen-image-max", "qwen-image-2.0"}) {
    v1::Task task = Create(Spec(model, prompt));
    WatchToEnd(task.id());
  }
  v1::GetTaskRequest get;
  get.set_task_id("no-such-task");
  v1::Task ignored;
  EXPECT_FALSE(stub_->GetTask(Context().get(), get, &ignored).ok());
  gateway_.reset();
  spdlog::set_default_logger(previous);

  const std::string logs = captured.str();
  ASSERT_NE(logs.find("grpc call"), std::string::npos) << logs;  // trace level reached them
  ASSERT_FALSE(options_.simulator.api_keys.empty());
  for (const std::string& key : options_.simulator.api_keys) {
    EXPECT_EQ(logs.find(key), std::string::npos) << logs;
  }
  EXPECT_EQ(logs.find("PROMPT-MARKER"), std::string::npos) << logs;
}

}  // namespace
}  // namespace qwenimage::testing
