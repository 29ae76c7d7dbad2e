// Resource bounds at the gRPC edge, through real gRPC: the largest request, the concurrent
// streams per connection, the task streams per tenant, and what a ReadImage client that never
// reads costs the server (a gateway subprocess, so that its RSS can be read from /proc).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/sim_stats.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kWatchMethod[] = "/qwenimage.v1.ImageService/WatchTask";
constexpr char kReadImageMethod[] = "/qwenimage.v1.ImageService/ReadImage";

// A channel on a connection of its own (channels with equal arguments share one otherwise).
std::shared_ptr<grpc::Channel> OwnConnection(int port, grpc::ChannelArguments args = {}) {
  static std::atomic<int> next{0};
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("qwenimage.test.connection", next++);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials(), args);
}

bool HasRetryInfo(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return false;
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::RetryInfo>()) return true;
  }
  return false;
}

// The value of a series whose name and labels are given as parts of one exposition line (label
// order is the library's), or 0 when it is absent.
double Sample(const std::string& text, const std::string& name,
              const std::vector<std::string>& labels) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!absl::StartsWith(line, name + "{")) continue;
    bool all = true;
    for (const std::string& label : labels) all = all && absl::StrContains(line, label);
    if (!all) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) return value;
  }
  return 0;
}

// A task stream open on the server: its first event has arrived.
struct OpenWatch {
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader;

  grpc::Status Close() {
    ctx->TryCancel();
    v1::TaskEvent event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  }
};

class ResourceBoundsTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.metrics_listen = "127.0.0.1:0";
    // Tasks outlast the test, so that their watch streams stay open.
    options_.simulator.task_duration = {absl::Minutes(5), absl::Minutes(5)};
  }

  v1::Task CreateFor(const std::string& tenant) {
    v1::CreateTaskRequest req;
    *req.mutable_spec() = Spec("qwen-image-plus");
    v1::Task task;
    grpc::Status s = stub_->CreateTask(Context(tenant).get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  // Opens a watch; OK once its first event arrived, else the status the stream ended with.
  grpc::Status Watch(v1::ImageService::Stub& stub, const std::string& tenant,
                     const std::string& task_id, OpenWatch* out) {
    out->reader.reset();  // before the context it uses
    out->ctx = Context(tenant);
    v1::WatchTaskRequest req;
    req.set_task_id(task_id);
    out->reader = stub.WatchTask(out->ctx.get(), req);
    v1::TaskEvent event;
    if (out->reader->Read(&event)) return grpc::Status::OK;
    return out->reader->Finish();
  }

  std::string Metrics() {
    return HttpGet("http://127.0.0.1:" + std::to_string(gateway_->metrics_port()) + "/metrics");
  }
  double StreamsInFlight(const std::string& method) {
    return Sample(Metrics(), "qwenimage_grpc_server_streams_in_flight",
                  {absl::StrCat("method=\"", method, "\"")});
  }
};

// Creates may carry input images: they have --max_create_message_bytes, every other method
// --max_receive_message_bytes; a request over its method's limit is refused before it is decoded.
TEST_F(ResourceBoundsTest, RequestLargerThanItsMethodsLimitIsResourceExhausted) {
  options_.limits.max_receive_message_bytes = 1 << 20;
  options_.limits.max_create_message_bytes = 2 << 20;
  StartGateway();
  v1::CreateTaskRequest big;
  *big.mutable_spec() = Spec("qwen-image-plus", std::string(3 << 20, 'a'));
  v1::Task task;
  grpc::Status s = stub_->CreateTask(Context().get(), big, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();

  // Over the general limit but under the create limit, a create is decoded and validated: the
  // prompt is what is wrong.
  v1::CreateTaskRequest under;
  *under.mutable_spec() = Spec("qwen-image-plus", std::string((3 << 19), 'a'));
  s = stub_->CreateTask(Context().get(), under, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  // The same size for another method is over its limit.
  v1::WatchTaskRequest watch;
  watch.set_task_id(std::string(3 << 19, 'a'));
  auto ctx = Context();
  auto reader = stub_->WatchTask(ctx.get(), watch);
  v1::TaskEvent event;
  EXPECT_FALSE(reader->Read(&event));
  s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("--max_receive_message_bytes"));
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 0);
}

TEST_F(ResourceBoundsTest, DefaultLimitsAreFourMiBAndThirtyTwoMiBForCreates) {
  StartGateway();
  v1::GetTaskRequest get;
  get.set_task_id(std::string((4 << 20) + 1, 'a'));
  v1::Task task;
  grpc::Status s = stub_->GetTask(Context().get(), get, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  v1::CreateTaskRequest big;
  *big.mutable_spec() = Spec("qwen-image-plus", std::string((32 << 20) + 1, 'a'));
  s = stub_->CreateTask(Context().get(), big, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  v1::CreateTaskRequest under;
  *under.mutable_spec() = Spec("qwen-image-plus", std::string((4 << 20) + 1, 'a'));
  s = stub_->CreateTask(Context().get(), under, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
}

// gRPC advertises the cap as HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; a client's call beyond it
// is held in the client (never sent) until one of that connection's streams ends.
TEST_F(ResourceBoundsTest, CallBeyondStreamsPerConnectionWaitsUntilOneEnds) {
  options_.limits.max_streams_per_connection = 3;
  StartGateway();
  const v1::Task task = CreateFor("team-a");
  std::vector<OpenWatch> open(3);
  for (OpenWatch& w : open) ASSERT_TRUE(Watch(*stub_, "team-a", task.id(), &w).ok());

  // The fourth on the same connection: its first event is what "started" means.
  OpenWatch fourth;
  fourth.ctx = Context("team-a");
  absl::Notification fourth_started;
  std::thread reader([&] {  // the call may block before it is sent
    v1::WatchTaskRequest req;
    req.set_task_id(task.id());
    fourth.reader = stub_->WatchTask(fourth.ctx.get(), req);
    v1::TaskEvent event;
    if (fourth.reader->Read(&event)) fourth_started.Notify();
    while (fourth.reader->Read(&event)) {
    }
  });

  // Another connection is served meanwhile: the server is not merely slow. After that round
  // trip the server holds the three and this one, and has never seen the fourth.
  auto other = v1::ImageService::NewStub(OwnConnection(gateway_->port()));
  OpenWatch elsewhere;
  ASSERT_TRUE(Watch(*other, "team-a", task.id(), &elsewhere).ok());
  EXPECT_EQ(StreamsInFlight(kWatchMethod), 4);
  EXPECT_FALSE(fourth_started.HasBeenNotified());

  // One ends: the waiting call goes out and starts.
  open[0].Close();
  EXPECT_TRUE(fourth_started.WaitForNotificationWithTimeout(absl::Seconds(30)));

  fourth.ctx->TryCancel();
  reader.join();
  fourth.reader->Finish();
  for (size_t i = 1; i < open.size(); ++i) open[i].Close();
  elsewhere.Close();
}

TEST_F(ResourceBoundsTest, WatchStreamsPerTenantAreCapped) {
  options_.max_watch_streams_per_tenant = 3;
  StartGateway();
  const v1::Task a = CreateFor("team-a");
  const v1::Task b = CreateFor("team-b");
  std::vector<OpenWatch> open(3);
  for (OpenWatch& w : open) ASSERT_TRUE(Watch(*stub_, "team-a", a.id(), &w).ok());

  OpenWatch refused;
  grpc::Status s = Watch(*stub_, "team-a", a.id(), &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(HasRetryInfo(s));

  // GenerateImagesStream counts too, and a refused one creates no task.
  v1::GenerateImagesStreamRequest gen;
  *gen.mutable_spec() = Spec("qwen-image-plus", "refused before it exists");
  auto gen_ctx = Context("team-a");
  auto gen_reader = stub_->GenerateImagesStream(gen_ctx.get(), gen);
  v1::TaskEvent event;
  EXPECT_FALSE(gen_reader->Read(&event));
  s = gen_reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  v1::ListTasksRequest list;
  v1::ListTasksResponse listed;
  ASSERT_TRUE(stub_->ListTasks(Context("team-a").get(), list, &listed).ok());
  EXPECT_EQ(listed.tasks_size(), 1);
  // At most a's and b's creates (b's may still be on its way): none for the refused one.
  EXPECT_LE(FetchSimStats(gateway_->upstream_base_url()).async_creates, 2);

  // Another tenant is not affected.
  OpenWatch other_tenant;
  EXPECT_TRUE(Watch(*stub_, "team-b", b.id(), &other_tenant).ok());

  // Closing one lets a new one in (once the server has seen the close).
  open[0].Close();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  OpenWatch again;
  while (!(s = Watch(*stub_, "team-a", a.id(), &again)).ok() && absl::Now() < deadline) {
    ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }
  EXPECT_TRUE(s.ok()) << s.error_message();

  again.Close();
  for (size_t i = 1; i < open.size(); ++i) open[i].Close();
  other_tenant.Close();
}

// Creates and watches run their store work on the executor while the RPC is held open; a call
// cancelled meanwhile (here by a deadline that expires at once) still ends exactly once, and
// every reactor is done afterwards (the server's stream gauge drops to zero).
TEST_F(ResourceBoundsTest, CallsCancelledWhileTheirStoreWorkRunsEndCleanly) {
  options_.simulator.task_duration = {absl::Milliseconds(10), absl::Milliseconds(20)};
  StartGateway();
  const v1::Task done = Create(Spec("qwen-image-plus"));
  WatchToEnd(done.id());
  for (int i = 0; i < 40; ++i) {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::microseconds(50 * i);
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(deadline);
      v1::GenerateImagesStreamRequest req;
      *req.mutable_spec() = Spec("qwen-image-plus", absl::StrCat("stream ", i));
      auto reader = stub_->GenerateImagesStream(&ctx, req);
      v1::TaskEvent event;
      while (reader->Read(&event)) {
      }
      grpc::Status s = reader->Finish();
      EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << s.error_message();
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(deadline);
      v1::GenerateImagesRequest req;
      *req.mutable_spec() = Spec("qwen-image-plus", absl::StrCat("wait ", i));
      v1::Task task;
      grpc::Status s = stub_->GenerateImages(&ctx, req, &task);
      EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << s.error_message();
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(deadline);
      v1::WatchTaskRequest req;
      req.set_task_id(done.id());
      auto reader = stub_->WatchTask(&ctx, req);
      v1::TaskEvent event;
      while (reader->Read(&event)) {
      }
      grpc::Status s = reader->Finish();
      EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << s.error_message();
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline &&
         (StreamsInFlight(kWatchMethod) > 0 ||
          StreamsInFlight("/qwenimage.v1.ImageService/GenerateImagesStream") > 0)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(StreamsInFlight(kWatchMethod), 0);
  EXPECT_EQ(StreamsInFlight("/qwenimage.v1.ImageService/GenerateImagesStream"), 0);
  // And the server still serves.
  EXPECT_EQ(WatchToEnd(Create(Spec("qwen-image-plus", "after")).id()).back().state(),
            v1::TASK_STATE_SUCCEEDED);
}

// --- A reader that never reads -------------------------------------------------------------

// VmRSS of `pid` in bytes (0 if unreadable).
int64_t RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kb = 0;
    if (absl::SimpleAtoi(rest, &kb)) return kb * 1024;
  }
  return 0;
}

// RSS once it stopped moving: two readings a second apart within 2 MiB.
int64_t SettledRss(pid_t pid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int64_t last = RssBytes(pid);
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Seconds(1));
    const int64_t now = RssBytes(pid);
    if (std::abs(now - last) < (2 << 20)) return now;
    last = now;
  }
  ADD_FAILURE() << "the gateway's RSS did not settle";
  return last;
}

class StalledReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/stalled_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    gateway_ = std::make_unique<Subprocess>(
        std::vector<std::string>{QWENIMAGE_GATEWAY_BINARY, "--simulate",
                                 "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
                                 "--data_dir=" + dir_, "--sim_task_duration=50ms",
                                 "--log_level=warn"},
        std::vector<std::string>{}, dir_ + "/gateway.log");
    port_ = gateway_->WaitForNumberAfter("listening on port ");
    metrics_port_ = gateway_->WaitForNumberAfter("metrics on port ");
    ASSERT_GT(port_, 0) << "see " << dir_ << "/gateway.log";
    ASSERT_GT(metrics_port_, 0);
    stub_ = v1::ImageService::NewStub(OwnConnection(port_));
  }

  std::string Metrics() {
    return HttpGet("http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics");
  }

  std::string dir_;
  std::unique_ptr<Subprocess> gateway_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

// 300 ReadImage calls on a task of six 2048x2048 images, from clients that never read. Each
// server call holds one 64 KiB chunk plus what HTTP/2 flow control lets gRPC buffer for it (its
// share of the client's window and gRPC's per-stream write buffer, ~64 KiB each): about
// 300 x 200 KiB = 60 MiB at most. A server that held each image whole would need at least
// 300 x (smallest image) — the simulator's 2048x2048 PNGs are ~650 KB each, so ~190 MB. The
// bound asserted is half of that: 300 x smallest / 2.
TEST_F(StalledReaderTest, ReadersThatNeverReadCostAWindowNotAnImage) {
  constexpr int kReaders = 300;
  constexpr int kConnections = 4;  // 75 streams each, under --max_streams_per_connection=100

  v1::CreateTaskRequest create;
  create.mutable_spec()->set_model("qwen-image-2.0");
  create.mutable_spec()->set_prompt("a lighthouse at dusk");
  create.mutable_spec()->set_n(6);
  create.mutable_spec()->set_size("2048*2048");
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
      if (event.has_task()) task = event.task();
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  ASSERT_EQ(task.images_size(), 6);

  // Each image read once in full (it also brings the server's allocations to their steady
  // state before the baseline).
  int64_t smallest = INT64_MAX, largest = 0;
  for (const v1::Image& image : task.images()) {
    grpc::ClientContext ctx;
    v1::ReadImageRequest req;
    req.set_task_id(task.id());
    req.set_index(image.index());
    auto reader = stub_->ReadImage(&ctx, req);
    v1::ReadImageResponse chunk;
    int64_t bytes = 0;
    while (reader->Read(&chunk)) bytes += static_cast<int64_t>(chunk.data().size());
    ASSERT_TRUE(reader->Finish().ok());
    smallest = std::min(smallest, bytes);
    largest = std::max(largest, bytes);
  }
  const double opens_before = Sample(Metrics(), "qwenimage_store_operation_seconds_count",
                                     {"op=\"open\"", "store=\"image\""});
  const int64_t baseline = SettledRss(gateway_->pid());

  // Clients with a small, fixed receive window (no BDP growth) that never call Read.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  std::vector<std::unique_ptr<v1::ImageService::Stub>> stubs;
  for (int i = 0; i < kConnections; ++i) {
    stubs.push_back(v1::ImageService::NewStub(OwnConnection(port_, args)));
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::ReadImageResponse>>> readers;
  for (int i = 0; i < kReaders; ++i) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
    v1::ReadImageRequest req;
    req.set_task_id(task.id());
    req.set_index(task.images(i % task.images_size()).index());
    readers.push_back(stubs[i % kConnections]->ReadImage(ctx.get(), req));
    contexts.push_back(std::move(ctx));
  }

  // Every call has opened its image (and so read and written its first chunk), none finished.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  double opened = 0, in_flight = 0;
  while (absl::Now() < deadline) {
    const std::string text = Metrics();
    opened = Sample(text, "qwenimage_store_operation_seconds_count",
                    {"op=\"open\"", "store=\"image\""}) -
             opens_before;
    in_flight = Sample(text, "qwenimage_grpc_server_streams_in_flight",
                       {absl::StrCat("method=\"", kReadImageMethod, "\"")});
    if (opened >= kReaders && in_flight >= kReaders) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(opened, kReaders);
  ASSERT_EQ(in_flight, kReaders);
  const int64_t held = SettledRss(gateway_->pid());
  const int64_t growth = held - baseline;
  const int64_t bound = kReaders * smallest / 2;
  std::printf("stalled readers: %d; images %lld..%lld bytes; RSS %lld -> %lld (+%lld bytes, "
              "%lld per reader); bound %lld\n",
              kReaders, static_cast<long long>(smallest), static_cast<long long>(largest),
              static_cast<long long>(baseline), static_cast<long long>(held),
              static_cast<long long>(growth), static_cast<long long>(growth / kReaders),
              static_cast<long long>(bound));
  EXPECT_LT(growth, bound);

  // Cancelled, each call ends (its pending write fails) and the server is idle again.
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& reader : readers) {
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  const absl::Time idle_deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < idle_deadline &&
         Sample(Metrics(), "qwenimage_grpc_server_streams_in_flight",
                {absl::StrCat("method=\"", kReadImageMethod, "\"")}) > 0) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Sample(Metrics(), "qwenimage_grpc_server_streams_in_flight",
                   {absl::StrCat("method=\"", kReadImageMethod, "\"")}),
            0);
}

}  // namespace
}  // namespace qwenimage::testing
