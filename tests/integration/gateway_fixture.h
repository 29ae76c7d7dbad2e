// GatewayFixture: an in-process gateway with the embedded simulator on loopback port 0, and a
// gRPC stub to it. Each test gets its own data directory.
#ifndef QWENIMAGE_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_
#define QWENIMAGE_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/server/gateway.h"

namespace qwenimage::testing {

// Field names of the BadRequest violations in a status (INVALID_ARGUMENT's details).
inline std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  google::rpc::Status rpc;
  std::vector<std::string> fields;
  if (!rpc.ParseFromString(status.error_details())) return fields;
  for (const auto& any : rpc.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    }
  }
  return fields;
}

class GatewayFixture : public ::testing::Test {
 protected:
  // Tests may adjust options_ and then call StartGateway() themselves.
  void SetUp() override {
    data_dir_ = ::testing::TempDir() + "/gw_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(data_dir_);
    options_.listen = "127.0.0.1:0";
    options_.data_dir = data_dir_;
    options_.simulate = true;
    // The self-asserted tenant header, also for tests that turn simulate off (auth_test.cc
    // covers tokens).
    options_.auth_mode = auth::AuthMode::kNone;
    options_.simulator.task_duration = {absl::Milliseconds(100), absl::Milliseconds(300)};
    options_.heartbeat_interval = absl::Seconds(1);
    options_.worker_threads = 2;
    options_.tasks.scheduler.default_limits = {4, 0};
    options_.tasks.min_poll_interval = absl::Milliseconds(50);
  }

  void TearDown() override {
    stub_.reset();
    gateway_.reset();
  }

  void StartGateway() {
    absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = *std::move(gw);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(gateway_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ImageService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& tenant = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!tenant.empty()) ctx->AddMetadata("x-qwenimage-tenant", tenant);
    return ctx;
  }

  static v1::GenerationSpec Spec(const std::string& model, const std::string& prompt = "a cat",
                                 int n = 0, const std::string& size = "") {
    v1::GenerationSpec spec;
    spec.set_model(model);
    spec.set_prompt(prompt);
    spec.set_n(n);
    spec.set_size(size);
    return spec;
  }

  // Creates a task (asserting success).
  v1::Task Create(const v1::GenerationSpec& spec, const std::string& request_id = "") {
    v1::CreateTaskRequest req;
    *req.mutable_spec() = spec;
    req.set_request_id(request_id);
    v1::Task task;
    grpc::Status s = stub_->CreateTask(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  // Watches a task to its end and returns every task event (heartbeats skipped).
  std::vector<v1::Task> WatchToEnd(const std::string& task_id, grpc::Status* status = nullptr) {
    v1::WatchTaskRequest req;
    req.set_task_id(task_id);
    auto ctx = Context();
    auto reader = stub_->WatchTask(ctx.get(), req);
    std::vector<v1::Task> events;
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task()) events.push_back(event.task());
    }
    grpc::Status s = reader->Finish();
    if (status != nullptr) *status = s;
    EXPECT_TRUE(s.ok()) << s.error_message();
    return events;
  }

  // Reads every chunk of one image.
  std::string ReadImage(const std::string& task_id, int index, v1::Image* metadata = nullptr) {
    v1::ReadImageRequest req;
    req.set_task_id(task_id);
    req.set_index(index);
    auto ctx = Context();
    auto reader = stub_->ReadImage(ctx.get(), req);
    std::string bytes;
    v1::ReadImageResponse chunk;
    while (reader->Read(&chunk)) {
      if (chunk.has_metadata() && metadata != nullptr) *metadata = chunk.metadata();
      bytes += chunk.data();
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return bytes;
  }

  std::string data_dir_;
  server::GatewayOptions options_;
  std::unique_ptr<server::Gateway> gateway_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_
