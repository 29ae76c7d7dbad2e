// Billing and isolation safety (issue 10): each situation of the table, driven through
// an in-process gateway against an external in-process simulator, asserting what upstream did
// (its /__stats) as well as what the caller sees. One create per task, always; a create whose
// outcome is unknown is resolved with proof or failed as possibly billed, never sent again.
// (The SIGTERM row lives in drain_test.cc.)
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/logging/logging.h"
#include "service/simulator/simulator.h"
#include "service/store/sha256.h"
#include "spdlog/sinks/ostream_sink.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kApiKey[] = "sk-billing-test-5e1c9a";
constexpr char kImageService[] = "qwenimage.v1.ImageService";

// Polls `condition` every 10 ms until it holds or `limit` passes; returns whether it held.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class BillingTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    sim_options_.api_keys = {kApiKey};
    sim_options_.task_duration = {absl::Milliseconds(300), absl::Milliseconds(300)};
    sim_options_.pending_delay = absl::Milliseconds(20);
    sim_options_.random_seed = 20260110;

    options_.simulate = false;
    options_.transport.insecure = true;
    options_.api_key = kApiKey;
    options_.allow_loopback_downloads = true;
    options_.metrics_listen = "127.0.0.1:0";
    options_.tasks.submit_backoff = {absl::Milliseconds(20), absl::Milliseconds(200), 6};
    options_.tasks.download_backoff = {absl::Milliseconds(20), absl::Milliseconds(200), 6};
    options_.tasks.key_probe_interval = absl::Milliseconds(100);
    // Short resolver timings: the first look after 200 ms, candidates polled every 100 ms.
    options_.tasks.resolver.lookup_spacing = absl::Milliseconds(200);
    options_.tasks.resolver.candidate_poll = absl::Milliseconds(100);
    options_.tasks.resolver.empty_lookups = 3;
    options_.tasks.resolver.max_wait = absl::Seconds(30);
  }

  // Starts the simulator with sim_options_, then the gateway against it.
  void StartAll() {
    absl::StatusOr<std::unique_ptr<simulator::Simulator>> sim =
        simulator::Simulator::Start(sim_options_);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    options_.dashscope_base_url = sim_->base_url();
    StartGateway();
  }

  void TearDown() override {
    GatewayFixture::TearDown();
    sim_.reset();
  }

  SimStats Stats() { return FetchSimStats(sim_->base_url()); }
  void Admin(const std::string& path_and_query) { PostSimAdmin(sim_->base_url(), path_and_query); }

  v1::Task Get(const std::string& id) {
    v1::GetTaskRequest req;
    req.set_task_id(id);
    v1::Task task;
    grpc::Status s = stub_->GetTask(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  v1::Task Final(const std::string& id) {
    std::vector<v1::Task> events = WatchToEnd(id);
    return events.empty() ? Get(id) : events.back();
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = health->Check(Context().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.status();
  }

  std::string Metrics() {
    return HttpGet("http://127.0.0.1:" + std::to_string(gateway_->metrics_port()) + "/metrics");
  }

  // Every image of a SUCCEEDED task is readable and its bytes match the sha256 it reports.
  void ExpectImagesReadable(const v1::Task& task) {
    for (const v1::Image& image : task.images()) {
      v1::Image meta;
      const std::string bytes = ReadImage(task.id(), image.index(), &meta);
      EXPECT_FALSE(bytes.empty()) << task.id() << "/" << image.index();
      EXPECT_EQ(store::Sha256Hex(bytes), image.sha256()) << task.id() << "/" << image.index();
      EXPECT_EQ(meta.sha256(), image.sha256()) << task.id() << "/" << image.index();
    }
  }

  simulator::SimulatorOptions sim_options_;
  std::unique_ptr<simulator::Simulator> sim_;
};

std::string Describe(const v1::Task& t) {
  return t.id() + " state=" + v1::TaskState_Name(t.state()) + " upstream=" + t.upstream_task_id() +
         " error=" + t.error().code() + ": " + t.error().message();
}

// Row 1: DashScope accepted the async create, the caller got an HTML 502. The task is found and
// proven (model, window, its own prompt), not sent again.
TEST_F(BillingTest, ProxyErrorAfterAnAcceptedCreateIsResolvedNotResent) {
  StartAll();
  const std::string prompt = "a red fox in snow [sim:after=502]";
  v1::Task created = Create(Spec("qwen-image-plus", prompt));
  v1::Task done = Final(created.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED) << Describe(done);
  EXPECT_FALSE(done.upstream_task_id().empty());
  ASSERT_EQ(done.images_size(), 1);
  EXPECT_EQ(done.images(0).orig_prompt(), prompt);
  ExpectImagesReadable(done);

  // The adopted upstream task is the one the simulator made for this prompt.
  nlohmann::json upstream =
      nlohmann::json::parse(FetchSimTask(sim_->base_url(), kApiKey, done.upstream_task_id()));
  EXPECT_EQ(upstream["output"]["task_status"], "SUCCEEDED") << upstream.dump();
  EXPECT_EQ(upstream["output"]["results"][0]["orig_prompt"], prompt) << upstream.dump();

  SimStats stats = Stats();
  EXPECT_EQ(stats.async_creates, 1) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "502"), 1) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 0) << stats.json;
}

// Row 2: a sync generation that completed upstream, answered as HTML 504: there is no lookup, so
// the task fails as possibly billed, is not retryable, and is never sent again.
TEST_F(BillingTest, ProxyErrorAfterASyncGenerationIsNotResent) {
  StartAll();
  v1::GenerateImagesRequest req;
  *req.mutable_spec() = Spec("qwen-image-max", "a lighthouse [sim:after=504]");
  v1::Task ignored;
  grpc::Status s = stub_->GenerateImages(Context().get(), req, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNKNOWN) << s.error_message();

  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(s.error_details())) << s.error_message();
  std::string task_id;
  for (const auto& any : rpc.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      EXPECT_EQ(info.reason(), "SubmitOutcomeUnknown");
      if (info.metadata().count("task_id")) task_id = info.metadata().at("task_id");
    }
  }
  ASSERT_FALSE(task_id.empty()) << "no ErrorInfo with task_id in " << s.error_message();
  v1::Task task = Get(task_id);
  EXPECT_EQ(task.state(), v1::TASK_STATE_FAILED) << Describe(task);
  EXPECT_EQ(task.error().code(), "SubmitOutcomeUnknown") << Describe(task);
  EXPECT_FALSE(task.error().retryable());
  EXPECT_EQ(task.error().status_code(), static_cast<int>(grpc::StatusCode::UNKNOWN));
  EXPECT_THAT(task.error().message(), HasSubstr("billed"));
  EXPECT_EQ(task.images_size(), 0);

  SimStats stats = Stats();
  EXPECT_EQ(stats.sync_generations, 1) << stats.json;
  EXPECT_EQ(stats.Requests("generation", "504"), 1) << stats.json;

  // Settle: a later generation goes through the same queue and client; once it has finished,
  // anything the failed task would still send would have been counted before or with it.
  v1::Task later = Final(Create(Spec("qwen-image-max", "a quiet harbour")).id());
  ASSERT_EQ(later.state(), v1::TASK_STATE_SUCCEEDED) << Describe(later);
  stats = Stats();
  EXPECT_EQ(stats.sync_generations, 2) << stats.json;
  EXPECT_EQ(stats.Requests("generation", "504"), 1) << stats.json;
  EXPECT_EQ(stats.Requests("generation", "200"), 1) << stats.json;
  EXPECT_EQ(Get(task_id).state(), v1::TASK_STATE_FAILED);
}

// Row 3: the create never reached DashScope (connection closed before any work) while another
// client of the same key created a task of the model in the same second. The other task never
// proves to be this one (its prompt differs): this task fails, and never shows its image.
TEST_F(BillingTest, ADroppedCreateNeverAdoptsAnotherClientsTask) {
  StartAll();
  const std::string ours = "a green parrot [sim:drop]";
  v1::Task created = Create(Spec("qwen-image-plus", ours));
  SimCreateReply other =
      PostSimAsyncCreate(sim_->base_url(), kApiKey, "qwen-image-plus", "another client's cat");
  ASSERT_EQ(other.http_status, 200) << other.body;
  ASSERT_FALSE(other.task_id.empty()) << other.body;

  v1::Task done = Final(created.id());
  EXPECT_EQ(done.state(), v1::TASK_STATE_FAILED) << Describe(done);
  EXPECT_EQ(done.error().code(), "SubmitOutcomeUnknown") << Describe(done);
  EXPECT_FALSE(done.error().retryable());
  EXPECT_EQ(done.error().status_code(), static_cast<int>(grpc::StatusCode::UNKNOWN));
  EXPECT_THAT(done.error().message(), HasSubstr("billed"));
  EXPECT_TRUE(done.upstream_task_id().empty()) << Describe(done);
  EXPECT_EQ(done.images_size(), 0);
  // The other task was created within the send window, so it was considered: it is named as a
  // candidate for support, and only as that.
  EXPECT_THAT(done.error().message(), HasSubstr(other.task_id));
  v1::ReadImageRequest read;
  read.set_task_id(created.id());
  read.set_index(0);
  auto ctx = Context();
  auto reader = stub_->ReadImage(ctx.get(), read);
  v1::ReadImageResponse chunk;
  std::string bytes;
  while (reader->Read(&chunk)) bytes += chunk.data();
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_TRUE(bytes.empty());

  // The other client's task ran to its end untouched.
  nlohmann::json theirs =
      nlohmann::json::parse(FetchSimTask(sim_->base_url(), kApiKey, other.task_id));
  EXPECT_EQ(theirs["output"]["task_status"], "SUCCEEDED") << theirs.dump();

  SimStats stats = Stats();
  EXPECT_EQ(stats.async_creates, 1) << stats.json;  // the other client's only
  EXPECT_EQ(stats.Requests("image-synthesis", "drop"), 1) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 1) << stats.json;
}

// Row 4: the create was accepted and its reply lost while another create of the model exists in
// the window: the gateway proves its own by orig_prompt and adopts it (not FAILED retryable).
TEST_F(BillingTest, ALostReplyIsResolvedAmongOtherCreatesOfTheModel) {
  StartAll();
  const std::string ours = "a blue heron at dawn [sim:after=502]";
  v1::Task created = Create(Spec("qwen-image-plus", ours));
  SimCreateReply other =
      PostSimAsyncCreate(sim_->base_url(), kApiKey, "qwen-image-plus", "another client's dog");
  ASSERT_EQ(other.http_status, 200) << other.body;
  ASSERT_FALSE(other.task_id.empty()) << other.body;

  v1::Task done = Final(created.id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED) << Describe(done);
  ASSERT_FALSE(done.upstream_task_id().empty());
  EXPECT_NE(done.upstream_task_id(), other.task_id);
  ASSERT_EQ(done.images_size(), 1);
  for (const v1::Image& image : done.images()) EXPECT_EQ(image.orig_prompt(), ours);
  ExpectImagesReadable(done);

  // The simulator agrees: the adopted upstream task is ours, and ours is in its list.
  nlohmann::json adopted =
      nlohmann::json::parse(FetchSimTask(sim_->base_url(), kApiKey, done.upstream_task_id()));
  EXPECT_EQ(adopted["output"]["results"][0]["orig_prompt"], ours) << adopted.dump();
  nlohmann::json theirs =
      nlohmann::json::parse(FetchSimTask(sim_->base_url(), kApiKey, other.task_id));
  EXPECT_EQ(theirs["output"]["results"][0]["orig_prompt"], "another client's dog")
      << theirs.dump();
  nlohmann::json list = nlohmann::json::parse(
      FetchSimTaskList(sim_->base_url(), kApiKey, "model_name=qwen-image-plus&page_size=100"));
  std::vector<std::string> listed;
  for (const auto& e : list["data"]) listed.push_back(e.value("task_id", ""));
  EXPECT_THAT(listed, ::testing::UnorderedElementsAre(done.upstream_task_id(), other.task_id))
      << list.dump();

  SimStats stats = Stats();
  EXPECT_EQ(stats.async_creates, 2) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "502"), 1) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 1) << stats.json;  // the other client's
}

// Row 6 of the issue: one task query answered 429 with Retry-After: 86400. The wait is capped
// (max_retry_after), so every task finishes and a cancel completes.
TEST_F(BillingTest, ADayLongRetryAfterStallsNothingPastTheCap) {
  options_.tasks.max_retry_after = absl::Seconds(1);
  // 4 run upstream, a 5th waits there PENDING (cancellable) behind them.
  options_.tasks.scheduler.default_limits = {4, 0, 1};
  sim_options_.limits = true;
  sim_options_.running_limit = 4;
  sim_options_.submit_rate = {};
  sim_options_.default_submit_rate = 0;
  sim_options_.task_api_qps = 0;
  sim_options_.task_duration = {absl::Seconds(2), absl::Seconds(2)};
  StartAll();
  Admin("/__faults/once?endpoint=task_get&status=429&retry_after=86400&count=1");

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(Create(Spec("qwen-image-plus", "tile " + std::to_string(i))).id());
  }
  const std::string fifth = Create(Spec("qwen-image-plus", "tile 4")).id();
  // The 429 has been answered (so the day-long hint is in force) before the cancel is asked.
  ASSERT_TRUE(WaitUntil([&] { return Stats().Requests("task_get", "429") >= 1; }))
      << Stats().json;

  v1::CancelTaskRequest cancel;
  cancel.set_task_id(fifth);
  v1::Task cancelled;
  {
    auto ctx = std::make_unique<grpc::ClientContext>();
    // A bound for a hang (the cap is 1 s), not a latency check.
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = stub_->CancelTask(ctx.get(), cancel, &cancelled);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }
  EXPECT_EQ(cancelled.state(), v1::TASK_STATE_CANCELLED) << Describe(cancelled);

  for (const std::string& id : ids) {
    v1::Task t = Final(id);
    EXPECT_EQ(t.state(), v1::TASK_STATE_SUCCEEDED) << Describe(t);
    EXPECT_EQ(t.images_size(), 1);
  }
  EXPECT_EQ(Get(fifth).state(), v1::TASK_STATE_CANCELLED);

  SimStats stats = Stats();
  EXPECT_EQ(stats.Requests("task_get", "429"), 1) << stats.json;
  EXPECT_EQ(stats.throttled, 1) << stats.json;
  EXPECT_EQ(stats.async_creates, 5) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 5) << stats.json;
}

// Row 7 of the issue: the key is refused upstream while tasks run and queue, then restored.
// Accepted tasks pause (readiness NOT_SERVING, the metric set) and all resume; each is created
// exactly once. Neither the logs nor any task's error carry the key.
TEST_F(BillingTest, ARevokedKeyPausesTasksUntilItIsRestored) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_formatter(logging::MakeJsonFormatter());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  struct RestoreLogger {
    std::shared_ptr<spdlog::logger> previous;
    ~RestoreLogger() { spdlog::set_default_logger(previous); }
  } restore{previous};

  options_.tasks.scheduler.default_limits = {2, 0, 0};
  options_.tasks.queue_ahead = 0;
  options_.tasks.key_outage_timeout = absl::Minutes(5);  // nothing may fail in this test
  sim_options_.task_duration = {absl::Seconds(1), absl::Seconds(1)};
  StartAll();
  ASSERT_TRUE(WaitUntil([&] { return Health(kImageService) == HealthCheckResponse::SERVING; }));

  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Create(Spec("qwen-image-plus", "kite " + std::to_string(i))).id());
  }
  // Two run upstream and three queue in the gateway when the key goes.
  ASSERT_TRUE(WaitUntil([&] { return Stats().async_creates >= 2; })) << Stats().json;
  Admin(std::string("/__keys/revoke?key=") + kApiKey);
  ASSERT_TRUE(WaitUntil([&] { return Health(kImageService) == HealthCheckResponse::NOT_SERVING; }))
      << Stats().json;
  EXPECT_EQ(SampleValue(Metrics(), "qwenimage_upstream_credentials_refused"), 1);
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);  // alive, just not ready
  for (const std::string& id : ids) {
    v1::Task t = Get(id);
    EXPECT_NE(t.state(), v1::TASK_STATE_FAILED) << Describe(t);
  }
  const int64_t creates_in_outage = Stats().async_creates;
  Admin(std::string("/__keys/add?key=") + kApiKey);

  for (const std::string& id : ids) {
    v1::Task t = Final(id);
    EXPECT_EQ(t.state(), v1::TASK_STATE_SUCCEEDED) << Describe(t);
    EXPECT_EQ(t.images_size(), 1);
    ExpectImagesReadable(t);
    EXPECT_THAT(t.error().message(), Not(HasSubstr(kApiKey)));
  }
  EXPECT_EQ(Health(kImageService), HealthCheckResponse::SERVING);
  EXPECT_EQ(SampleValue(Metrics(), "qwenimage_upstream_credentials_refused"), 0);

  SimStats stats = Stats();
  // A refused create (401) did no work: the simulator counts it under requests, not creates.
  EXPECT_EQ(stats.async_creates, 5) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 5) << stats.json;
  EXPECT_LE(creates_in_outage, 5);
  // The refusal was seen by a poll, a create or a probe.
  EXPECT_GE(stats.Requests("task_get", "401") + stats.Requests("image-synthesis", "401") +
                stats.Requests("task_list", "401"),
            1)
      << stats.json;

  gateway_.reset();
  const std::string logs = captured.str();
  EXPECT_THAT(logs, HasSubstr("refuses"));  // the loud line is there
  EXPECT_EQ(logs.find(kApiKey), std::string::npos) << logs;
}

// The partial-results bullet: one image of two lost for good; the other is stored and the task
// SUCCEEDED with the lost index in image_errors. The generation is not sent again.
TEST_F(BillingTest, ALostImageDownloadKeepsTheOthers) {
  options_.tasks.download_backoff = {absl::Milliseconds(20), absl::Milliseconds(200), 1};
  StartAll();
  Admin("/__faults/once?endpoint=image&status=500&count=1");
  v1::Task done = Final(Create(Spec("qwen-image-2.0", "two pears", 2)).id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_SUCCEEDED) << Describe(done);
  ASSERT_EQ(done.images_size(), 1) << Describe(done);
  ASSERT_EQ(done.image_errors_size(), 1) << Describe(done);
  EXPECT_EQ(done.image_errors(0).code(), "DownloadFailed");
  EXPECT_NE(done.image_errors(0).index(), done.images(0).index());
  EXPECT_GE(done.image_errors(0).index(), 0);
  EXPECT_LE(done.image_errors(0).index(), 1);
  ExpectImagesReadable(done);

  SimStats stats = Stats();
  EXPECT_EQ(stats.sync_generations, 1) << stats.json;
  EXPECT_EQ(stats.Requests("image", "500"), 1) << stats.json;
  EXPECT_EQ(stats.Requests("image", "200"), 1) << stats.json;
}

// The download-safety bullet: a result URL the policy refuses (http, a loopback address) is
// never fetched; the task fails, leaving no file, and the generation is not sent again.
TEST_F(BillingTest, AResultUrlOutsideThePolicyIsNeverFetched) {
  options_.allow_loopback_downloads = false;
  StartAll();
  v1::Task done = Final(Create(Spec("qwen-image-max", "a fenced garden")).id());
  ASSERT_EQ(done.state(), v1::TASK_STATE_FAILED) << Describe(done);
  EXPECT_EQ(done.error().code(), "DownloadFailed") << Describe(done);
  EXPECT_EQ(done.images_size(), 0);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/images/" + done.id()));
  SimStats stats = Stats();
  EXPECT_EQ(stats.sync_generations, 1) << stats.json;
  EXPECT_EQ(stats.json.find("\"image\""), std::string::npos) << stats.json;  // no request
}

// The key-rotation bullet: tasks queued while the key is refused fail KeyOutage (retryable) after
// key_outage_timeout, and nothing was created upstream.
TEST_F(BillingTest, QueuedTasksFailAfterTheKeyOutageTimeout) {
  options_.tasks.key_outage_timeout = absl::Seconds(2);
  StartAll();
  Admin(std::string("/__keys/revoke?key=") + kApiKey);
  std::vector<std::string> ids;
  ids.push_back(Create(Spec("qwen-image-plus", "an owl")).id());
  ids.push_back(Create(Spec("qwen-image-plus", "a hare")).id());
  ids.push_back(Create(Spec("qwen-image-max", "a moth")).id());
  for (const std::string& id : ids) {
    v1::Task t = Final(id);
    EXPECT_EQ(t.state(), v1::TASK_STATE_FAILED) << Describe(t);
    EXPECT_EQ(t.error().code(), "KeyOutage") << Describe(t);
    EXPECT_TRUE(t.error().retryable());
    EXPECT_THAT(t.error().message(), Not(HasSubstr(kApiKey)));
    EXPECT_EQ(t.images_size(), 0);
  }
  EXPECT_EQ(Health(kImageService), HealthCheckResponse::NOT_SERVING);

  SimStats stats = Stats();
  EXPECT_EQ(stats.async_creates, 0) << stats.json;
  EXPECT_EQ(stats.sync_generations, 0) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "200"), 0) << stats.json;
  EXPECT_EQ(stats.Requests("generation", "200"), 0) << stats.json;
}

}  // namespace
}  // namespace qwenimage::testing
