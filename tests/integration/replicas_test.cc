// Two gateway processes on one PostgreSQL database and one S3 bucket (s3rver), in front of one
// simulated DashScope account: a task created on one replica is watched and read on the other;
// the lease holder killed with SIGKILL mid-task is replaced by the standby, which finishes the
// task from its stored upstream id and serves its images; a burst through both replicas stays
// inside the account's limits; a holder paused past its lease cannot overwrite what the new
// holder wrote; a cancel sent to the standby is carried out by the holder. Every billing claim
// is checked at the simulator (/__stats).
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/simulator/simulator.h"
#include "service/store/sha256.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/s3_server.h"
#include "tests/testing/sim_stats.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {
namespace {

constexpr char kApiKey[] = "sk-replicas-test";
constexpr int kExitLeaseLost = 75;  // server/gateway.h

bool Terminal(v1::TaskState s) {
  return s == v1::TASK_STATE_SUCCEEDED || s == v1::TASK_STATE_FAILED ||
         s == v1::TASK_STATE_CANCELLED;
}

struct Replica {
  std::string name;
  std::string log_path;
  std::unique_ptr<Subprocess> process;
  std::unique_ptr<v1::ImageService::Stub> stub;

  std::string Log() const {
    std::ifstream in(log_path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // The epoch this replica's log says it took the lease at; 0 if it never did.
  int64_t Epoch() const {
    const std::string log = Log();
    const std::string marker = "holds the lease (epoch ";
    const size_t at = log.rfind(marker);
    int64_t epoch = 0;
    if (at == std::string::npos) return 0;
    const size_t start = at + marker.size();
    const size_t end = log.find(')', start);
    return absl::SimpleAtoi(log.substr(start, end - start), &epoch) ? epoch : 0;
  }
};

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    postgres_ = SharedPostgresServerOrSkip();
    if (postgres_ == nullptr) return;
    s3_ = SharedS3ServerOrSkip();
    if (s3_ == nullptr) return;
    dir_ = ::testing::TempDir() + "/replicas_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    absl::StatusOr<std::string> database = postgres_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    std::ofstream(dir_ + "/postgres.dsn") << postgres_->Dsn(database_) << "\n";
    absl::StatusOr<std::string> bucket = s3_->CreateBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    bucket_ = *bucket;
    std::ofstream(dir_ + "/s3.credentials")
        << "access_key_id=" << S3Server::kAccessKeyId
        << "\nsecret_access_key=" << S3Server::kSecretAccessKey << "\n";
  }

  void StartSimulator(absl::Duration task_duration, bool limits) {
    simulator::SimulatorOptions sim;
    sim.api_keys = {kApiKey};
    sim.task_duration = {task_duration, task_duration};
    sim.limits = limits;
    absl::StatusOr<std::unique_ptr<simulator::Simulator>> started =
        simulator::Simulator::Start(sim);
    ASSERT_TRUE(started.ok()) << started.status();
    sim_ = *std::move(started);
  }

  // Starts a replica on the shared database and bucket; its stderr goes to <name>.log.
  Replica StartReplica(const std::string& name) {
    Replica r;
    r.name = name;
    r.log_path = dir_ + "/" + name + ".log";
    const std::string data_dir = dir_ + "/" + name;
    std::vector<std::string> argv = {QWENIMAGE_GATEWAY_BINARY,
                                     "--listen=127.0.0.1:0",
                                     "--metrics_listen=",
                                     "--data_dir=" + data_dir,
                                     "--dashscope_base_url=" + sim_->base_url(),
                                     "--allow_loopback_downloads",
                                     "--auth=none",
                                     "--insecure",
                                     "--store=postgres",
                                     "--postgres_dsn_file=" + dir_ + "/postgres.dsn",
                                     "--postgres_pool_size=4",
                                     "--image_store=s3",
                                     "--s3_endpoint=" + s3_->endpoint(),
                                     "--s3_bucket=" + bucket_,
                                     std::string("--s3_region=") + S3Server::kRegion,
                                     "--s3_credentials_file=" + dir_ + "/s3.credentials",
                                     "--lease_ttl=2s",
                                     "--claim_interval=200ms",
                                     "--drain_grace=5s"};
    r.process = std::make_unique<Subprocess>(
        argv, std::vector<std::string>{std::string("DASHSCOPE_API_KEY=") + kApiKey}, r.log_path);
    const int port = r.process->WaitForNumberAfter("listening on port ");
    EXPECT_GT(port, 0) << name << " did not start; see " << r.log_path;
    r.stub = v1::ImageService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    return r;
  }

  // Waits until `r`'s log says it holds the lease (the guard bounds a hang, it is no timing
  // claim: failover takes up to lease_ttl + lease_ttl/3 = 2.7 s here).
  void AwaitLeader(const Replica& r) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (r.Epoch() == 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up)
          << r.name << " never took the lease:\n" << r.Log();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static v1::Task Create(Replica& r, const std::string& model, const std::string& prompt) {
    v1::CreateTaskRequest req;
    req.mutable_spec()->set_model(model);
    req.mutable_spec()->set_prompt(prompt);
    grpc::ClientContext ctx;
    v1::Task task;
    grpc::Status s = r.stub->CreateTask(&ctx, req, &task);
    EXPECT_TRUE(s.ok()) << r.name << ": " << s.error_message();
    return task;
  }

  static v1::Task Get(Replica& r, const std::string& id) {
    v1::GetTaskRequest req;
    req.set_task_id(id);
    grpc::ClientContext ctx;
    v1::Task task;
    grpc::Status s = r.stub->GetTask(&ctx, req, &task);
    EXPECT_TRUE(s.ok()) << r.name << ": " << s.error_message();
    return task;
  }

  // Every state a watch on `r` delivers until the task ends (the stream closes after it).
  static std::vector<v1::Task> WatchToEnd(Replica& r, const std::string& id) {
    v1::WatchTaskRequest req;
    req.set_task_id(id);
    grpc::ClientContext ctx;
    auto reader = r.stub->WatchTask(&ctx, req);
    std::vector<v1::Task> seen;
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task()) seen.push_back(event.task());
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << r.name << ": " << s.error_message();
    return seen;
  }

  // Watches on `r` until the task has an upstream id (submitted) and returns that state.
  static v1::Task AwaitSubmitted(Replica& r, const std::string& id) {
    v1::WatchTaskRequest req;
    req.set_task_id(id);
    grpc::ClientContext ctx;
    auto reader = r.stub->WatchTask(&ctx, req);
    v1::Task last;
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (!event.has_task()) continue;
      last = event.task();
      if (!last.upstream_task_id().empty() || Terminal(last.state())) break;
    }
    ctx.TryCancel();
    reader->Finish().IgnoreError();
    EXPECT_FALSE(last.upstream_task_id().empty()) << r.name << ": never submitted";
    return last;
  }

  static std::string ReadImage(Replica& r, const std::string& id, int index) {
    v1::ReadImageRequest req;
    req.set_task_id(id);
    req.set_index(index);
    grpc::ClientContext ctx;
    auto reader = r.stub->ReadImage(&ctx, req);
    std::string bytes;
    v1::ReadImageResponse chunk;
    while (reader->Read(&chunk)) bytes += chunk.data();
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << r.name << ": " << s.error_message();
    return bytes;
  }

  // Every image of a SUCCEEDED task read through `r` matches the sha256 the task records.
  static void ExpectImagesReadable(Replica& r, const v1::Task& task) {
    ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.DebugString();
    ASSERT_GT(task.images_size(), 0);
    for (const v1::Image& image : task.images()) {
      const std::string bytes = ReadImage(r, task.id(), image.index());
      EXPECT_EQ(store::Sha256Hex(bytes), image.sha256()) << r.name << " image " << image.index();
    }
  }

  int64_t OwnerEpoch(const std::string& task_id) {
    absl::StatusOr<std::vector<std::string>> rows = postgres_->Query(
        database_, absl::StrCat("SELECT owner_epoch FROM tasks WHERE id = '", task_id, "'"));
    EXPECT_TRUE(rows.ok()) << rows.status();
    int64_t epoch = -1;
    if (rows.ok() && rows->size() == 1) {
      EXPECT_TRUE(absl::SimpleAtoi(rows->front(), &epoch)) << rows->front();
    }
    return epoch;
  }

  PostgresServer* postgres_ = nullptr;
  S3Server* s3_ = nullptr;
  std::string dir_;
  std::string database_;
  std::string bucket_;
  std::unique_ptr<simulator::Simulator> sim_;
};

TEST_F(ReplicasTest, KilledHolderIsReplacedAndTheStandbyFinishesItsTask) {
  if (postgres_ == nullptr || s3_ == nullptr) return;
  StartSimulator(absl::Seconds(3), /*limits=*/false);
  Replica a = StartReplica("a");
  AwaitLeader(a);
  Replica b = StartReplica("b");

  v1::Task created = Create(a, "qwen-image-plus", "a lighthouse at dusk");
  // Watched on the standby: it sees the holder's stored progress, then the end.
  v1::WatchTaskRequest req;
  req.set_task_id(created.id());
  grpc::ClientContext ctx;
  auto reader = b.stub->WatchTask(&ctx, req);
  std::vector<v1::Task> seen;
  v1::TaskEvent event;
  while (reader->Read(&event)) {
    if (!event.has_task()) continue;
    seen.push_back(event.task());
    if (!event.task().upstream_task_id().empty()) break;  // submitted by a
  }
  ASSERT_FALSE(seen.empty());
  ASSERT_FALSE(seen.back().upstream_task_id().empty()) << "b never saw the submission";
  EXPECT_FALSE(Terminal(seen.back().state()));
  const std::string upstream_id = seen.back().upstream_task_id();

  a.process->Signal(SIGKILL);
  EXPECT_EQ(a.process->Wait(), 128 + SIGKILL);
  while (reader->Read(&event)) {
    if (event.has_task()) seen.push_back(event.task());
  }
  ASSERT_TRUE(reader->Finish().ok());
  const v1::Task& last = seen.back();
  EXPECT_EQ(last.state(), v1::TASK_STATE_SUCCEEDED) << b.Log();
  EXPECT_EQ(last.upstream_task_id(), upstream_id);
  EXPECT_GT(b.Epoch(), a.Epoch());
  EXPECT_EQ(OwnerEpoch(created.id()), b.Epoch());
  ExpectImagesReadable(b, Get(b, created.id()));
  // One create upstream: b polled the stored upstream id and never re-submitted.
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
}

TEST_F(ReplicasTest, BurstThroughBothReplicasStaysInsideTheAccountLimits) {
  if (postgres_ == nullptr || s3_ == nullptr) return;
  // The simulator enforces DashScope's account limits (2 running, 2 submits/s per model);
  // either replica alone would fill them, so only a shared admission keeps every 429 away.
  StartSimulator(absl::Milliseconds(300), /*limits=*/true);
  Replica a = StartReplica("a");
  AwaitLeader(a);
  Replica b = StartReplica("b");

  constexpr int kTasks = 16;
  std::vector<std::string> ids;
  for (int i = 0; i < kTasks; ++i) {
    Replica& r = i % 2 == 0 ? a : b;
    ids.push_back(Create(r, "qwen-image-plus", absl::StrCat("burst ", i)).id());
  }
  for (int i = 0; i < kTasks; ++i) {
    Replica& r = i % 2 == 0 ? b : a;  // watched on the other replica
    std::vector<v1::Task> seen = WatchToEnd(r, ids[i]);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().state(), v1::TASK_STATE_SUCCEEDED) << seen.back().DebugString();
  }
  const SimStats stats = FetchSimStats(sim_->base_url());
  EXPECT_EQ(stats.throttled, 0) << stats.json;
  EXPECT_EQ(stats.async_creates, kTasks) << stats.json;
  EXPECT_LE(stats.peak_running_max, 2) << stats.json;
  EXPECT_EQ(b.Epoch(), 0) << "the standby never led: a kept the lease";
}

TEST_F(ReplicasTest, PausedHolderCannotOverwriteTheNewHoldersWrite) {
  if (postgres_ == nullptr || s3_ == nullptr) return;
  StartSimulator(absl::Seconds(2), /*limits=*/false);
  Replica a = StartReplica("a");
  AwaitLeader(a);
  Replica b = StartReplica("b");

  v1::Task created = Create(a, "qwen-image-plus", "a paused replica");
  const v1::Task submitted = AwaitSubmitted(a, created.id());
  ASSERT_FALSE(submitted.upstream_task_id().empty());

  // a stops (a GC pause, a frozen VM) with the task in flight; its lease runs out and b takes
  // over, finishing the task from the stored upstream id.
  a.process->Signal(SIGSTOP);
  AwaitLeader(b);
  std::vector<v1::Task> seen = WatchToEnd(b, created.id());
  ASSERT_FALSE(seen.empty());
  const v1::Task finished = seen.back();
  ASSERT_EQ(finished.state(), v1::TASK_STATE_SUCCEEDED) << b.Log();
  const int64_t b_epoch = b.Epoch();
  EXPECT_GT(b_epoch, a.Epoch());
  EXPECT_EQ(OwnerEpoch(created.id()), b_epoch);

  // a wakes up with a stale lease and its poll and timers due: it must stop without a write.
  a.process->Signal(SIGCONT);
  EXPECT_EQ(a.process->Wait(), kExitLeaseLost) << a.Log();
  EXPECT_TRUE(absl::StrContains(a.Log(), "lost the account lease")) << a.Log();
  const v1::Task after = Get(b, created.id());
  EXPECT_EQ(after.SerializeAsString(), finished.SerializeAsString())
      << "before:\n" << finished.DebugString() << "after:\n" << after.DebugString();
  EXPECT_EQ(OwnerEpoch(created.id()), b_epoch);
  ExpectImagesReadable(b, after);
  EXPECT_EQ(FetchSimStats(sim_->base_url()).async_creates, 1);
}

TEST_F(ReplicasTest, CancelOnTheStandbyIsCarriedOutByTheHolder) {
  if (postgres_ == nullptr || s3_ == nullptr) return;
  StartSimulator(absl::Seconds(30), /*limits=*/false);
  Replica a = StartReplica("a");
  AwaitLeader(a);
  Replica b = StartReplica("b");

  v1::Task created = Create(b, "qwen-image-plus", "cancel me elsewhere");
  v1::CancelTaskRequest req;
  req.set_task_id(created.id());
  grpc::ClientContext ctx;
  v1::Task cancelled;
  grpc::Status s = b.stub->CancelTask(&ctx, req, &cancelled);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << a.Log();
  EXPECT_EQ(cancelled.state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(Get(a, created.id()).state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(b.Epoch(), 0);
}

}  // namespace
}  // namespace qwenimage::testing
