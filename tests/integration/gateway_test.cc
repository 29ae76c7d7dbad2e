// End-to-end behaviour of every RPC through real gRPC against the embedded simulator.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/common/png.h"
#include "service/store/sha256.h"
#include "service/tasks/convert.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class GatewayTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    StartGateway();
  }

  grpc::Status CreateStatus(const v1::GenerationSpec& spec, const std::string& request_id = "") {
    v1::CreateTaskRequest req;
    *req.mutable_spec() = spec;
    req.set_request_id(request_id);
    v1::Task task;
    return stub_->CreateTask(Context().get(), req, &task);
  }
};

TEST_F(GatewayTest, ListModelsDescribesEveryModel) {
  v1::ListModelsResponse resp;
  ASSERT_TRUE(stub_->ListModels(Context().get(), v1::ListModelsRequest(), &resp).ok());
  std::map<std::string, v1::Model> by_name;
  for (const v1::Model& m : resp.models()) by_name[m.name()] = m;
  for (const char* name : {"qwen-image", "qwen-image-plus", "qwen-image-max", "qwen-image-2.0",
                           "qwen-image-2.0-pro", "qwen-image-2.0-pro-2026-04-22"}) {
    ASSERT_TRUE(by_name.count(name)) << name;
  }
  EXPECT_EQ(by_name["qwen-image-plus"].upstream_mode(), v1::UPSTREAM_MODE_ASYNC);
  EXPECT_EQ(by_name["qwen-image-max"].upstream_mode(), v1::UPSTREAM_MODE_SYNC);
  EXPECT_THAT(by_name["qwen-image-plus"].sizes(), Contains("1664*928"));
  EXPECT_EQ(by_name["qwen-image-2.0"].max_n(), 6);
  EXPECT_EQ(by_name["qwen-image-2.0"].max_pixels(), 2048 * 2048);
}

TEST_F(GatewayTest, InvalidRequestsNameTheFieldBeforeAnyUpstreamCall) {
  struct Case {
    v1::GenerationSpec spec;
    std::string request_id;
    std::string field;
  };
  v1::GenerationSpec seed = Spec("qwen-image-plus");
  seed.set_seed(-1);
  std::vector<Case> cases = {
      {Spec("no-such-model"), "", "spec.model"},
      {Spec("qwen-image-plus", "a cat", 0, "1024*1024"), "", "spec.size"},
      {Spec("qwen-image-plus", "a cat", 0, "1664x928"), "", "spec.size"},
      {Spec("qwen-image-2.0", "a cat", 0, "4096*4096"), "", "spec.size"},
      {Spec("qwen-image-plus", "a cat", 2), "", "spec.n"},
      {Spec("qwen-image-2.0", "a cat", 7), "", "spec.n"},
      {Spec("qwen-image-plus", ""), "", "spec.prompt"},
      {Spec("qwen-image-plus", std::string(801, 'a')), "", "spec.prompt"},
      {seed, "", "spec.seed"},
      {Spec("qwen-image-plus"), "has spaces", "request_id"},
  };
  for (const Case& c : cases) {
    grpc::Status s = CreateStatus(c.spec, c.request_id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(ViolatedFields(s), Contains(c.field)) << s.error_message();
  }
  v1::CreateTaskRequest no_spec;
  v1::Task task;
  EXPECT_THAT(ViolatedFields(stub_->CreateTask(Context().get(), no_spec, &task)),
              Contains("spec"));
  SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.async_creates + stats.sync_generations, 0);
}

TEST_F(GatewayTest, InvalidUtf8IsNamedNotDropped) {
  // The C++ client serializes invalid UTF-8 as is (it only logs), as a careless client would.
  v1::GenerationSpec spec = Spec("qwen-image-plus", std::string("caf\xc3 \xff", 6));
  spec.set_negative_prompt(std::string("\xe2\x82", 2));
  grpc::Status s = CreateStatus(spec);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ::testing::UnorderedElementsAre("spec.prompt",
                                                                 "spec.negative_prompt"));
  v1::GenerateImagesStreamRequest stream_req;
  *stream_req.mutable_spec() = spec;
  auto ctx = Context();
  auto reader = stub_->GenerateImagesStream(ctx.get(), stream_req);
  v1::TaskEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_THAT(ViolatedFields(reader->Finish()), Contains("spec.prompt"));
}

TEST_F(GatewayTest, UnknownTasksAndBadPageTokens) {
  v1::GetTaskRequest get;
  get.set_task_id("nosuchtask");
  v1::Task task;
  EXPECT_EQ(stub_->GetTask(Context().get(), get, &task).error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_task_id("");
  EXPECT_EQ(stub_->GetTask(Context().get(), get, &task).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListTasksRequest list;
  list.set_page_token("!!garbage!!");
  v1::ListTasksResponse resp;
  grpc::Status s = stub_->ListTasks(Context().get(), list, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), Contains("page_token"));
  grpc::Status watch;
  v1::WatchTaskRequest wreq;
  wreq.set_task_id("nosuchtask");
  auto ctx = Context();
  auto reader = stub_->WatchTask(ctx.get(), wreq);
  v1::TaskEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayTest, GenerateImagesWithSyncModelStoresEveryImage) {
  v1::GenerateImagesRequest req;
  *req.mutable_spec() = Spec("qwen-image-2.0", "two red apples", 2, "768*512");
  req.mutable_spec()->set_seed(7);
  v1::Task task;
  grpc::Status s = stub_->GenerateImages(Context().get(), req, &task);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(task.upstream_mode(), v1::UPSTREAM_MODE_SYNC);
  ASSERT_EQ(task.images_size(), 2);
  EXPECT_EQ(task.usage().image_count(), 2);
  for (int i = 0; i < 2; ++i) {
    v1::Image meta;
    std::string png = ReadImage(task.id(), i, &meta);
    absl::StatusOr<PngInfo> decoded = DecodePng(png, int64_t{1} << 24);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, 768);
    EXPECT_EQ(decoded->height, 512);
    EXPECT_EQ(meta.sha256(), store::Sha256Hex(png));
    EXPECT_EQ(meta.size_bytes(), static_cast<int64_t>(png.size()));
    EXPECT_EQ(task.images(i).sha256(), meta.sha256());
  }
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).sync_generations, 1);
  // An index past the images is NOT_FOUND; a negative one is malformed.
  for (auto [index, code] : {std::pair{2, grpc::StatusCode::NOT_FOUND},
                             std::pair{-1, grpc::StatusCode::INVALID_ARGUMENT}}) {
    v1::ReadImageRequest read;
    read.set_task_id(task.id());
    read.set_index(index);
    auto ctx = Context();
    auto reader = stub_->ReadImage(ctx.get(), read);
    v1::ReadImageResponse chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    EXPECT_EQ(reader->Finish().error_code(), code) << index;
  }
}

TEST_F(GatewayTest, AsyncTaskStreamsEveryStateToTheEnd) {
  v1::Task task = Create(Spec("qwen-image-plus"));
  EXPECT_EQ(task.upstream_mode(), v1::UPSTREAM_MODE_ASYNC);
  std::vector<v1::Task> events = WatchToEnd(task.id());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().state(), v1::TASK_STATE_SUCCEEDED);
  // States only move forward.
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LE(events[i - 1].state(), events[i].state());
  }
  const v1::Task& done = events.back();
  EXPECT_FALSE(done.upstream_task_id().empty());
  EXPECT_GE(done.upstream_request_ids_size(), 2);
  EXPECT_TRUE(done.has_end_time());
  ASSERT_EQ(done.images_size(), 1);
  EXPECT_EQ(done.images(0).width(), 1664);  // the default size
  EXPECT_EQ(done.images(0).height(), 928);
  // A watcher that arrives after the end gets the final snapshot and an OK close.
  std::vector<v1::Task> late = WatchToEnd(task.id());
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].state(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(GatewayTest, TwoWatchersSeeTheSameEvents) {
  v1::Task task = Create(Spec("qwen-image-plus"));
  std::vector<v1::Task> a, b;
  std::thread t1([&] { a = WatchToEnd(task.id()); });
  std::thread t2([&] { b = WatchToEnd(task.id()); });
  t1.join();
  t2.join();
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  // A watcher's snapshot is the state published when it joined, and every later change reaches
  // every watcher in order: the one that joined later saw exactly the other one's events from
  // that point on, every field of every event alike.
  const std::vector<v1::Task>& earlier = a.size() >= b.size() ? a : b;
  const std::vector<v1::Task>& later = a.size() >= b.size() ? b : a;
  const size_t joined_at = earlier.size() - later.size();
  for (size_t i = 0; i < later.size(); ++i) {
    std::string diff;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differencer.Compare(earlier[joined_at + i], later[i]))
        << "event " << i << " of the later watcher (" << later.size() << " events, the other "
        << earlier.size() << "): " << diff;
  }
  // The earlier watcher saw the task move forward to its end, and only the last event is
  // terminal.
  for (size_t i = 1; i < earlier.size(); ++i) {
    EXPECT_LE(earlier[i - 1].state(), earlier[i].state());
    EXPECT_LT(earlier[i - 1].state(), v1::TASK_STATE_SUCCEEDED);
  }
  EXPECT_EQ(earlier.back().state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(earlier.back().images_size(), 1);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
}

TEST_F(GatewayTest, SameRequestIdReturnsTheSameTask) {
  v1::Task first = Create(Spec("qwen-image-plus"), "6f1c6f5e-1b7e-4c2a-9a3f-0d2d1c9e8b7a");
  v1::Task second = Create(Spec("qwen-image-plus"), "6f1c6f5e-1b7e-4c2a-9a3f-0d2d1c9e8b7a");
  EXPECT_EQ(first.id(), second.id());
  grpc::Status conflict =
      CreateStatus(Spec("qwen-image-plus", "a dog"), "6f1c6f5e-1b7e-4c2a-9a3f-0d2d1c9e8b7a");
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  WatchToEnd(first.id());
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
}

TEST_F(GatewayTest, GenerateImagesStreamCreatesAndWatches) {
  v1::GenerateImagesStreamRequest req;
  *req.mutable_spec() = Spec("qwen-image-max");
  auto ctx = Context();
  auto reader = stub_->GenerateImagesStream(ctx.get(), req);
  v1::TaskEvent event;
  std::vector<v1::TaskState> states;
  while (reader->Read(&event)) {
    if (event.has_task()) states.push_back(event.task().state());
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(GatewayTest, ListTasksPagesAndFilters) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) created.insert(Create(Spec("qwen-image-plus")).id());
  created.insert(Create(Spec("qwen-image-max")).id());
  std::set<std::string> seen;
  v1::ListTasksRequest req;
  req.set_page_size(2);
  int pages = 0;
  do {
    v1::ListTasksResponse resp;
    ASSERT_TRUE(stub_->ListTasks(Context().get(), req, &resp).ok());
    for (const v1::Task& t : resp.tasks()) EXPECT_TRUE(seen.insert(t.id()).second);
    req.set_page_token(resp.next_page_token());
    ++pages;
  } while (!req.page_token().empty());
  EXPECT_EQ(seen, created);
  EXPECT_EQ(pages, 3);

  v1::ListTasksRequest by_model;
  by_model.set_model("qwen-image-max");
  v1::ListTasksResponse resp;
  ASSERT_TRUE(stub_->ListTasks(Context().get(), by_model, &resp).ok());
  ASSERT_EQ(resp.tasks_size(), 1);
  // Another tenant sees none of them.
  ASSERT_TRUE(stub_->ListTasks(Context("someone-else").get(), v1::ListTasksRequest(), &resp).ok());
  EXPECT_EQ(resp.tasks_size(), 0);
  // A token is bound to its filters.
  v1::ListTasksRequest first_page;
  first_page.set_page_size(1);
  ASSERT_TRUE(stub_->ListTasks(Context().get(), first_page, &resp).ok());
  by_model.set_page_token(resp.next_page_token());
  EXPECT_EQ(stub_->ListTasks(Context().get(), by_model, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // ...including which bound a time is: after=T is not before=T.
  v1::ListTasksRequest after;
  after.set_page_size(1);
  after.mutable_create_time_after()->set_seconds(1);
  ASSERT_TRUE(stub_->ListTasks(Context().get(), after, &resp).ok());
  ASSERT_FALSE(resp.next_page_token().empty());
  v1::ListTasksRequest before;
  before.set_page_size(1);
  before.mutable_create_time_before()->set_seconds(1);
  before.set_page_token(resp.next_page_token());
  EXPECT_EQ(stub_->ListTasks(Context().get(), before, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // ...but not the order of the states asked for.
  // (Every state, so that every task matches whatever it has reached.)
  v1::ListTasksRequest states;
  states.set_page_size(1);
  v1::ListTasksRequest reordered;
  reordered.set_page_size(1);
  for (int s = v1::TASK_STATE_QUEUED; s <= v1::TASK_STATE_CANCELLED; ++s) {
    states.add_states(static_cast<v1::TaskState>(s));
    reordered.add_states(
        static_cast<v1::TaskState>(v1::TASK_STATE_CANCELLED + v1::TASK_STATE_QUEUED - s));
  }
  ASSERT_TRUE(stub_->ListTasks(Context().get(), states, &resp).ok());
  ASSERT_FALSE(resp.next_page_token().empty());
  reordered.set_page_token(resp.next_page_token());
  EXPECT_TRUE(stub_->ListTasks(Context().get(), reordered, &resp).ok());
}

TEST_F(GatewayTest, ModerationFailureKeepsTheUpstreamCode) {
  v1::GenerateImagesRequest req;
  *req.mutable_spec() = Spec("qwen-image-max", "a cat [sim:moderation]");
  v1::Task task;
  grpc::Status s = stub_->GenerateImages(Context().get(), req, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("DataInspectionFailed"));
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(s.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details_size() > 0 && rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "DataInspectionFailed");
  ASSERT_TRUE(info.metadata().count("task_id"));
  v1::GetTaskRequest get;
  get.set_task_id(info.metadata().at("task_id"));
  ASSERT_TRUE(stub_->GetTask(Context().get(), get, &task).ok());
  EXPECT_EQ(task.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(task.error().code(), "DataInspectionFailed");
  EXPECT_FALSE(task.error().upstream_request_id().empty());
}

// Whether a TCP listener can bind 127.0.0.1:`port` (0 picks one; the bound port is returned).
int BindLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int bound = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::listen(fd, 1) == 0) {
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    bound = ntohs(addr.sin_port);
  }
  ::close(fd);
  return bound;
}

// The last step fails after the gRPC server is listening: Start reports it, and the one
// teardown stops what was started (the port is free again, the store can be opened again).
using GatewayStartTest = GatewayFixture;

TEST_F(GatewayStartTest, AFailedStartStopsWhatItHadStarted) {
  const int port = BindLoopback(0);
  ASSERT_GT(port, 0);
  options_.listen = "127.0.0.1:" + std::to_string(port);
  options_.metrics_listen = "127.0.0.1:not-a-port";
  absl::StatusOr<std::unique_ptr<server::Gateway>> failed = server::Gateway::Start(options_);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(BindLoopback(port), port) << "the gRPC listener outlived the failed start";
  options_.metrics_listen = "";
  StartGateway();
  EXPECT_EQ(gateway_->port(), port);
}

TEST_F(GatewayTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service : {"", "qwenimage.v1.ImageService"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(Context().get(), req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

TEST_F(GatewayTest, DeleteTaskDropsTheImages) {
  v1::GenerateImagesRequest req;
  *req.mutable_spec() = Spec("qwen-image-2.0", "two pears", 2, "768*512");
  v1::Task task;
  ASSERT_TRUE(stub_->GenerateImages(Context().get(), req, &task).ok());
  ASSERT_EQ(task.images_size(), 2);
  // The directory image store keeps <data_dir>/images/<task id>/<index>.png.
  const std::filesystem::path dir = std::filesystem::path(data_dir_) / "images" / task.id();
  for (const v1::Image& image : task.images()) {
    const std::filesystem::path file = dir / (std::to_string(image.index()) + ".png");
    ASSERT_TRUE(std::filesystem::is_regular_file(file)) << file;
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(store::Sha256Hex(bytes), image.sha256()) << file;
    EXPECT_EQ(ReadImage(task.id(), image.index()), bytes) << file;
  }

  v1::DeleteTaskRequest del;
  del.set_task_id(task.id());
  v1::DeleteTaskResponse resp;
  ASSERT_TRUE(stub_->DeleteTask(Context().get(), del, &resp).ok());
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_TRUE(std::filesystem::is_directory(std::filesystem::path(data_dir_) / "images"));
  for (int index = 0; index < 2; ++index) {
    v1::ReadImageRequest read;
    read.set_task_id(task.id());
    read.set_index(index);
    auto ctx = Context();
    auto reader = stub_->ReadImage(ctx.get(), read);
    v1::ReadImageResponse chunk;
    EXPECT_FALSE(reader->Read(&chunk)) << index;
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND) << index;
  }
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  EXPECT_EQ(stub_->GetTask(Context().get(), get, &task).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace qwenimage::testing
