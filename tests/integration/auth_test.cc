// Authenticated tenants through real gRPC (--auth=tokens): missing, wrong and revoked tokens
// (reload, watcher, SIGHUP to the binary), another tenant's task on every RPC, per-tenant
// request ids, open health, and logs free of tokens.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/logging/logging.h"
#include "service/store/sha256.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenA[] = "tok-team-a-4b1f0c8e2d";
constexpr char kTokenB[] = "tok-team-b-9a7e3d5c1f";
constexpr char kTokenA2[] = "tok-team-a-rotated-77e1";

class AuthTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    std::filesystem::create_directories(data_dir_);
    tokens_file_ = data_dir_ + "/tokens.json";
    WriteTokens({{kTokenA, "team-a"}, {kTokenB, "team-b"}});
    options_.auth_mode = auth::AuthMode::kTokens;
    options_.tokens_file = tokens_file_;
  }

  // Replaces the tokens file atomically (as a Secret volume update does).
  void WriteTokens(const std::vector<std::pair<std::string, std::string>>& tokens) {
    std::string entries;
    for (const auto& [token, tenant] : tokens) {
      absl::StrAppend(&entries, entries.empty() ? "" : ",", R"({"sha256": ")",
                      store::Sha256Hex(token), R"(", "tenant": ")", tenant, R"(", "name": ")",
                      tenant, R"(-ci"})");
    }
    WriteFile(absl::StrCat(R"({"tokens": [)", entries, "]}"));
  }
  void WriteFile(const std::string& contents) {
    std::ofstream(tokens_file_ + ".tmp") << contents;
    std::filesystem::rename(tokens_file_ + ".tmp", tokens_file_);
  }

  // A call context carrying `token` (none when empty).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  grpc::Status CreateAs(const std::string& token, v1::Task* task,
                        const std::string& request_id = "") {
    v1::CreateTaskRequest req;
    *req.mutable_spec() = Spec("qwen-image-plus");
    req.set_request_id(request_id);
    return stub_->CreateTask(As(token).get(), req, task);
  }

  grpc::Status GetAs(const std::string& token, const std::string& task_id,
                     v1::Task* task = nullptr) {
    v1::GetTaskRequest req;
    req.set_task_id(task_id);
    v1::Task ignored;
    return stub_->GetTask(As(token).get(), req, task != nullptr ? task : &ignored);
  }

  // Watches to the end; returns the stream's status and the last task seen.
  grpc::Status WatchAs(const std::string& token, const std::string& task_id,
                       v1::Task* last = nullptr) {
    v1::WatchTaskRequest req;
    req.set_task_id(task_id);
    auto ctx = As(token);
    auto reader = stub_->WatchTask(ctx.get(), req);
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task() && last != nullptr) *last = event.task();
    }
    return reader->Finish();
  }

  grpc::Status ReadImageAs(const std::string& token, const std::string& task_id,
                           std::string* bytes) {
    v1::ReadImageRequest req;
    req.set_task_id(task_id);
    req.set_index(0);
    auto ctx = As(token);
    auto reader = stub_->ReadImage(ctx.get(), req);
    v1::ReadImageResponse chunk;
    while (reader->Read(&chunk)) *bytes += chunk.data();
    return reader->Finish();
  }

  // A task of team-a that has succeeded.
  v1::Task SucceededTaskOfA() {
    v1::Task task;
    EXPECT_TRUE(CreateAs(kTokenA, &task).ok());
    v1::Task last;
    EXPECT_TRUE(WatchAs(kTokenA, task.id(), &last).ok());
    EXPECT_EQ(last.state(), v1::TASK_STATE_SUCCEEDED);
    return last;
  }

  std::string tokens_file_;
};

TEST_F(AuthTest, MissingTokenIsUnauthenticatedOnEveryImageServiceRpc) {
  StartGateway();
  v1::Task task;
  ASSERT_TRUE(CreateAs(kTokenA, &task).ok());

  v1::Task ignored;
  EXPECT_EQ(CreateAs("", &ignored).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetAs("", task.id()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::ListTasksResponse list;
  EXPECT_EQ(stub_->ListTasks(As("").get(), v1::ListTasksRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(WatchAs("", task.id()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::string bytes;
  EXPECT_EQ(ReadImageAs("", task.id(), &bytes).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(task.id());
  EXPECT_EQ(stub_->CancelTask(As("").get(), cancel, &ignored).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::DeleteTaskRequest del;
  del.set_task_id(task.id());
  v1::DeleteTaskResponse deleted;
  EXPECT_EQ(stub_->DeleteTask(As("").get(), del, &deleted).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListModelsResponse models;
  EXPECT_EQ(stub_->ListModels(As("").get(), v1::ListModelsRequest(), &models).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::GenerateImagesRequest generate;
  *generate.mutable_spec() = Spec("qwen-image-plus");
  v1::Task generated;
  EXPECT_EQ(stub_->GenerateImages(As("").get(), generate, &generated).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Naming a tenant in the old header is no credential.
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  grpc::Status header_only = stub_->GetTask(Context("team-a").get(), get, &ignored);
  EXPECT_EQ(header_only.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(header_only.error_message(), HasSubstr("authorization: Bearer <token>"));
}

TEST_F(AuthTest, WrongOrMalformedTokenIsUnauthenticatedWithoutEchoingIt) {
  StartGateway();
  v1::Task task;
  grpc::Status wrong = CreateAs("tok-not-issued-5e5e5e", &task);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(wrong.error_message(), Not(HasSubstr("tok-not-issued-5e5e5e")));
  auto basic = std::make_unique<grpc::ClientContext>();
  basic->AddMetadata("authorization", absl::StrCat("Basic ", kTokenA));
  v1::ListModelsResponse models;
  grpc::Status malformed = stub_->ListModels(basic.get(), v1::ListModelsRequest(), &models);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(malformed.error_message(), Not(HasSubstr(kTokenA)));
  EXPECT_TRUE(stub_->ListModels(As(kTokenA).get(), v1::ListModelsRequest(), &models).ok());
}

TEST_F(AuthTest, ARevokedTokenIsUnauthenticatedAfterAReload) {
  StartGateway();
  v1::Task task;
  ASSERT_TRUE(CreateAs(kTokenA, &task).ok());
  // Rotation: team-a's old token goes, a new one comes; team-b's stays.
  WriteTokens({{kTokenA2, "team-a"}, {kTokenB, "team-b"}});
  ASSERT_TRUE(gateway_->ReloadTokens().ok());  // what SIGHUP does
  EXPECT_EQ(GetAs(kTokenA, task.id()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(GetAs(kTokenA2, task.id()).ok());  // the same tenant, so the same tasks
  v1::Task b_task;
  EXPECT_TRUE(CreateAs(kTokenB, &b_task).ok());

  // A file that does not parse keeps the tokens in use.
  WriteFile("{\"tokens\": [");
  EXPECT_FALSE(gateway_->ReloadTokens().ok());
  EXPECT_TRUE(GetAs(kTokenA2, task.id()).ok());
  EXPECT_EQ(GetAs(kTokenA, task.id()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, TheWatcherNoticesARevocationWithoutASignal) {
  options_.tokens_poll_interval = absl::Milliseconds(50);
  StartGateway();
  v1::Task task;
  ASSERT_TRUE(CreateAs(kTokenB, &task).ok());
  WriteTokens({{kTokenA, "team-a"}});  // team-b's token revoked
  // Wait on the condition itself: the next poll applies the file.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  grpc::Status status = GetAs(kTokenB, task.id());
  while (status.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
    status = GetAs(kTokenB, task.id());
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::Task a_task;
  EXPECT_TRUE(CreateAs(kTokenA, &a_task).ok());
}

TEST_F(AuthTest, AnotherTenantsTaskIsNotFoundOnEveryRpc) {
  StartGateway();
  const v1::Task task = SucceededTaskOfA();
  ASSERT_FALSE(task.id().empty());

  v1::Task got;
  grpc::Status get = GetAs(kTokenB, task.id(), &got);
  EXPECT_EQ(get.error_code(), grpc::StatusCode::NOT_FOUND) << get.error_message();

  v1::ListTasksResponse b_list;
  ASSERT_TRUE(stub_->ListTasks(As(kTokenB).get(), v1::ListTasksRequest(), &b_list).ok());
  EXPECT_EQ(b_list.tasks_size(), 0);

  EXPECT_EQ(WatchAs(kTokenB, task.id()).error_code(), grpc::StatusCode::NOT_FOUND);

  std::string bytes;
  EXPECT_EQ(ReadImageAs(kTokenB, task.id(), &bytes).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(bytes.empty());

  v1::CancelTaskRequest cancel;
  cancel.set_task_id(task.id());
  v1::Task cancelled;
  EXPECT_EQ(stub_->CancelTask(As(kTokenB).get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::DeleteTaskRequest del;
  del.set_task_id(task.id());
  v1::DeleteTaskResponse deleted;
  EXPECT_EQ(stub_->DeleteTask(As(kTokenB).get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Nothing B did reached A's task.
  v1::Task mine;
  ASSERT_TRUE(GetAs(kTokenA, task.id(), &mine).ok());
  EXPECT_EQ(mine.state(), v1::TASK_STATE_SUCCEEDED);
  v1::ListTasksResponse a_list;
  ASSERT_TRUE(stub_->ListTasks(As(kTokenA).get(), v1::ListTasksRequest(), &a_list).ok());
  ASSERT_EQ(a_list.tasks_size(), 1);
  EXPECT_EQ(a_list.tasks(0).id(), task.id());
  std::string a_bytes;
  EXPECT_TRUE(ReadImageAs(kTokenA, task.id(), &a_bytes).ok());
  EXPECT_FALSE(a_bytes.empty());
}

TEST_F(AuthTest, AnotherTenantCannotCancelATaskInFlight) {
  StartGateway();
  v1::Task task;
  ASSERT_TRUE(CreateAs(kTokenA, &task).ok());
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(task.id());
  v1::Task cancelled;
  EXPECT_EQ(stub_->CancelTask(As(kTokenB).get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::Task last;
  ASSERT_TRUE(WatchAs(kTokenA, task.id(), &last).ok());
  EXPECT_EQ(last.state(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(AuthTest, TheSameRequestIdFromTwoTenantsMakesTwoTasks) {
  StartGateway();
  const std::string request_id = "3f1c9d2e-0000-4000-8000-00000000aaaa";
  v1::Task a1, a2, b1;
  ASSERT_TRUE(CreateAs(kTokenA, &a1, request_id).ok());
  ASSERT_TRUE(CreateAs(kTokenB, &b1, request_id).ok());
  ASSERT_TRUE(CreateAs(kTokenA, &a2, request_id).ok());
  EXPECT_NE(a1.id(), b1.id());
  EXPECT_EQ(a1.id(), a2.id());  // a retry of team-a's own create
  EXPECT_EQ(GetAs(kTokenB, a1.id()).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetAs(kTokenA, b1.id()).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AuthTest, HealthAnswersWithoutAToken) {
  StartGateway();
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = health->Check(As("").get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(AuthTest, TokensModeWithoutAFileRefusesToStart) {
  options_.tokens_file.clear();
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  ASSERT_FALSE(gw.ok());
  EXPECT_THAT(gw.status().message(), HasSubstr("--tokens_file"));
}

TEST_F(AuthTest, WithoutAModeTokensAreTheDefaultUnlessSimulating) {
  options_.auth_mode.reset();
  options_.tokens_file.clear();
  options_.simulate = false;
  options_.transport.insecure = true;
  options_.api_key = "sk-auth-default-test";
  options_.dashscope_base_url = "http://127.0.0.1:1/api/v1";  // never reached
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  ASSERT_FALSE(gw.ok());
  EXPECT_THAT(gw.status().message(), HasSubstr("--auth=tokens needs --tokens_file"));
}

TEST_F(AuthTest, WithoutAModeASimulatingGatewayTakesTheTenantHeader) {
  options_.auth_mode.reset();
  options_.tokens_file.clear();
  StartGateway();
  v1::CreateTaskRequest req;
  *req.mutable_spec() = Spec("qwen-image-plus");
  v1::Task task;
  ASSERT_TRUE(stub_->CreateTask(Context("team-a").get(), req, &task).ok());
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  v1::Task got;
  EXPECT_TRUE(stub_->GetTask(Context("team-a").get(), get, &got).ok());
  EXPECT_EQ(stub_->GetTask(Context("team-b").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AuthTest, LogsNeverCarryTokensOrTheirHashes) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_formatter(logging::MakeJsonFormatter());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  options_.tokens_poll_interval = absl::Milliseconds(50);
  StartGateway();
  SucceededTaskOfA();
  v1::Task ignored;
  EXPECT_FALSE(CreateAs("tok-not-issued-5e5e5e", &ignored).ok());
  EXPECT_FALSE(GetAs(kTokenB, "no-such-task").ok());
  // A rotation, then a file that does not parse: both are logged.
  WriteTokens({{kTokenA2, "team-a"}, {kTokenB, "team-b"}});
  ASSERT_TRUE(gateway_->ReloadTokens().ok());
  WriteFile(absl::StrCat(R"({"tokens": [{"sha256": ")", store::Sha256Hex(kTokenA),
                         R"(", "tenant": "team a"}]})"));
  EXPECT_FALSE(gateway_->ReloadTokens().ok());
  gateway_.reset();
  spdlog::set_default_logger(previous);

  const std::string logs = captured.str();
  ASSERT_NE(logs.find("grpc call"), std::string::npos) << logs;  // trace level reached them
  EXPECT_NE(logs.find("--auth=tokens: 2 tokens"), std::string::npos) << logs;
  EXPECT_NE(logs.find("tokens[0].tenant"), std::string::npos) << logs;  // the bad file, named
  for (const std::string& token :
       {std::string(kTokenA), std::string(kTokenB), std::string(kTokenA2),
        std::string("tok-not-issued-5e5e5e")}) {
    EXPECT_EQ(logs.find(token), std::string::npos) << token << "\n" << logs;
    EXPECT_EQ(logs.find(store::Sha256Hex(token)), std::string::npos) << token << "\n" << logs;
  }
}

// The binary: SIGHUP re-reads the tokens file, and nothing it logs holds a token or a hash.
TEST_F(AuthTest, SighupRevokesATokenInTheBinaryAndItsLogHoldsNoToken) {
  const std::string log_path = data_dir_ + "/gateway.log";
  Subprocess gw({QWENIMAGE_GATEWAY_BINARY, "--simulate", "--listen=127.0.0.1:0",
                 "--metrics_listen=", "--data_dir=" + data_dir_, "--auth=tokens",
                 "--tokens_file=" + tokens_file_, "--tokens_poll_interval=1h",
                 "--log_level=trace", "--log_format=text"},
                {}, log_path);
  const int port = gw.WaitForNumberAfter("listening on port ");
  ASSERT_GT(port, 0) << "see " << log_path;
  channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                 grpc::InsecureChannelCredentials());
  stub_ = v1::ImageService::NewStub(channel_);

  v1::Task task;
  ASSERT_TRUE(CreateAs(kTokenA, &task).ok());
  EXPECT_EQ(CreateAs("tok-not-issued-5e5e5e", &task).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  WriteTokens({{kTokenA2, "team-a"}, {kTokenB, "team-b"}});
  gw.Signal(SIGHUP);
  // Wait on the condition: the signal thread re-reads the file.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  grpc::Status status = GetAs(kTokenA, task.id());
  while (status.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
    status = GetAs(kTokenA, task.id());
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(GetAs(kTokenA2, task.id()).ok());
  stub_.reset();
  channel_.reset();
  gw.Signal(SIGTERM);
  EXPECT_EQ(gw.Wait(), 0);

  std::ifstream in(log_path);
  const std::string logs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(logs.find("--auth=tokens: 2 tokens"), std::string::npos) << logs;
  EXPECT_NE(logs.find("re-read: 2 tokens"), std::string::npos) << logs;
  for (const std::string& token :
       {std::string(kTokenA), std::string(kTokenB), std::string(kTokenA2),
        std::string("tok-not-issued-5e5e5e")}) {
    EXPECT_EQ(logs.find(token), std::string::npos) << token << "\n" << logs;
    EXPECT_EQ(logs.find(store::Sha256Hex(token)), std::string::npos) << token << "\n" << logs;
  }
}

}  // namespace
}  // namespace qwenimage::testing
