// The gateway binary killed with SIGKILL at seeded random moments while clients keep sending
// idempotent CreateTask calls (each retried with its own fixed request_id until it gets an answer,
// across restarts), then restarted on the same stores. Two topologies: one gateway on SQLite and
// a directory, restarted on the same --data_dir; and two replicas on one PostgreSQL database and
// one S3 bucket (s3rver), either of them killed (the lease holder or the standby) and restarted,
// with clients spread over both. The simulator runs in this process, so its counters outlive
// every gateway. Afterwards: every request id names exactly one task, every task is terminal,
// upstream saw at most one create per task (exactly one per task that got a result), and every
// stored image matches its checksum.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/simulator/simulator.h"
#include "service/store/sha256.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/s3_server.h"
#include "tests/testing/sim_stats.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::testing {
namespace {

constexpr char kApiKey[] = "sk-crash-test";
constexpr int kClients = 4;
constexpr int kRequestsPerClient = 12;
// Codes of a task failed because a billed call's outcome is unknown: the async create or sync
// call may have reached upstream, so it is not sent again.
bool IsOutcomeUnknown(const v1::TaskError& error) {
  return error.code() == "SubmitOutcomeUnknown" || error.code() == "Interrupted";
}
// Two async and two sync models, so that kills hit creates, polls, downloads and held sync calls.
const char* const kModels[] = {"qwen-image", "qwen-image-plus", "qwen-image-max", "qwen-image-2.0"};

bool IsTerminal(v1::TaskState state) {
  return state == v1::TASK_STATE_SUCCEEDED || state == v1::TASK_STATE_FAILED ||
         state == v1::TASK_STATE_CANCELLED;
}

// A call that may not have reached a live gateway (killed, restarting): retried.
bool IsRetryable(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

std::chrono::system_clock::time_point In(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d);
}

// The stubs of the gateway processes serving now (one per replica slot), replaced on every
// restart; each call goes to the next one, round robin.
class CurrentGateways {
 public:
  explicit CurrentGateways(int slots) : stubs_(slots) {}
  void Set(int slot, std::shared_ptr<v1::ImageService::Stub> stub) {
    absl::MutexLock lock(&mu_);
    stubs_[slot] = std::move(stub);
  }
  // Waits while every slot is restarting.
  std::shared_ptr<v1::ImageService::Stub> Get() {
    absl::MutexLock lock(&mu_, absl::Condition(this, &CurrentGateways::AnyServing));
    for (;;) {
      const size_t slot = next_++ % stubs_.size();
      if (stubs_[slot] != nullptr) return stubs_[slot];
    }
  }

 private:
  bool AnyServing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& stub : stubs_) {
      if (stub != nullptr) return true;
    }
    return false;
  }

  absl::Mutex mu_;
  std::vector<std::shared_ptr<v1::ImageService::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

struct Topology {
  const char* name;
  int replicas;  // 1: SQLite + a directory; 2: PostgreSQL + S3, two processes
};

// One logical request: fixed id and spec, sent until a gateway answers it.
struct LogicalRequest {
  std::string request_id;
  v1::GenerationSpec spec;
  std::string task_id;   // from the answer
  grpc::Status refused;  // a final error answer (none expected)
  int attempts = 0;
};

class CrashTest : public ::testing::TestWithParam<Topology> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/crash_" + GetParam().name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (GetParam().replicas > 1) {
      PostgresServer* postgres = SharedPostgresServerOrSkip();
      if (postgres == nullptr) return;
      S3Server* s3 = SharedS3ServerOrSkip();
      if (s3 == nullptr) return;
      absl::StatusOr<std::string> database = postgres->CreateDatabase();
      ASSERT_TRUE(database.ok()) << database.status();
      absl::StatusOr<std::string> bucket = s3->CreateBucket();
      ASSERT_TRUE(bucket.ok()) << bucket.status();
      std::ofstream(dir_ + "/postgres.dsn") << postgres->Dsn(*database) << "\n";
      std::ofstream(dir_ + "/s3.credentials")
          << "access_key_id=" << S3Server::kAccessKeyId
          << "\nsecret_access_key=" << S3Server::kSecretAccessKey << "\n";
      shared_store_flags_ = {"--store=postgres",
                             "--postgres_dsn_file=" + dir_ + "/postgres.dsn",
                             "--postgres_pool_size=4",
                             "--image_store=s3",
                             "--s3_endpoint=" + s3->endpoint(),
                             "--s3_bucket=" + *bucket,
                             std::string("--s3_region=") + S3Server::kRegion,
                             "--s3_credentials_file=" + dir_ + "/s3.credentials",
                             "--lease_ttl=1s",
                             "--claim_interval=100ms"};
    }
    ready_ = true;
    seed_ = std::random_device()();
    if (const char* fixed = std::getenv("QWENIMAGE_CRASH_SEED"); fixed != nullptr) {
      seed_ = std::strtoull(fixed, nullptr, 10);
    }
    std::cout << "crash test seed: " << seed_ << " (rerun with QWENIMAGE_CRASH_SEED=" << seed_
              << ")" << std::endl;
    RecordProperty("seed", std::to_string(seed_));
    simulator::SimulatorOptions sim;
    sim.api_keys = {kApiKey};
    sim.task_duration = {absl::Milliseconds(200), absl::Milliseconds(900)};
    // Sync calls are held for their whole duration: shorter, so that some finish between kills.
    for (const char* model : {"qwen-image-max", "qwen-image-2.0"}) {
      sim.model_durations[model] = {absl::Milliseconds(100), absl::Milliseconds(300)};
    }
    sim.random_seed = seed_ | 1;  // 0 would mean "seed from the OS"
    sim_ = *simulator::Simulator::Start(sim);
  }

  // Starts the gateway of replica `slot` on free ports against the simulator; points that slot
  // of current_ at it.
  std::unique_ptr<Subprocess> StartGateway(int slot) {
    std::vector<std::string> argv = {QWENIMAGE_GATEWAY_BINARY,
                                     "--listen=127.0.0.1:0",
                                     "--metrics_listen=",
                                     "--data_dir=" + dir_ + "/data" + std::to_string(slot),
                                     "--dashscope_base_url=" + sim_->base_url(),
                                     "--allow_loopback_downloads",
                                     "--auth=none",
                                     "--insecure",
                                     "--max_running=6",
                                     "--submits_per_second=0",
                                     "--min_poll_interval=50ms"};
    argv.insert(argv.end(), shared_store_flags_.begin(), shared_store_flags_.end());
    auto gw = std::make_unique<Subprocess>(
        argv, std::vector<std::string>{std::string("DASHSCOPE_API_KEY=") + kApiKey},
        dir_ + "/gateway.log");
    const int port = gw->WaitForNumberAfter("listening on port ");
    EXPECT_GT(port, 0) << "gateway did not start:\n" << LogTail();
    current_.Set(slot, v1::ImageService::NewStub(grpc::CreateChannel(
                           "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials())));
    return gw;
  }

  // Sends `r` until some gateway answers it (or 60 s pass).
  void Send(LogicalRequest& r) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    v1::CreateTaskRequest req;
    req.set_request_id(r.request_id);
    *req.mutable_spec() = r.spec;
    for (;;) {
      ++r.attempts;
      std::shared_ptr<v1::ImageService::Stub> stub = current_.Get();
      grpc::ClientContext ctx;
      ctx.set_deadline(In(absl::Seconds(5)));
      v1::Task task;
      grpc::Status s = stub->CreateTask(&ctx, req, &task);
      if (s.ok()) {
        r.task_id = task.id();
        return;
      }
      if (!IsRetryable(s) || absl::Now() > give_up) {
        r.refused = s;
        return;
      }
      absl::SleepFor(absl::Milliseconds(20));  // back-off while no gateway listens
    }
  }

  // Watches `task_id` until its terminal event (re-watching if a stream breaks); the last
  // snapshot seen.
  v1::Task WatchToTerminal(const std::string& task_id, absl::Time deadline) {
    v1::Task last;
    while (absl::Now() < deadline) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(deadline));
      v1::WatchTaskRequest req;
      req.set_task_id(task_id);
      auto reader = current_.Get()->WatchTask(&ctx, req);
      v1::TaskEvent event;
      while (reader->Read(&event)) {
        if (event.has_task()) last = event.task();
      }
      grpc::Status status = reader->Finish();
      if (IsTerminal(last.state())) break;
      if (!status.ok() && !IsRetryable(status)) {
        ADD_FAILURE() << "watch " << task_id << ": " << status.error_message();
        break;
      }
      if (!status.ok()) absl::SleepFor(absl::Milliseconds(20));  // back-off before re-watching
    }
    return last;
  }

  // Every task the default tenant can list.
  std::vector<v1::Task> ListAll() {
    std::vector<v1::Task> all;
    v1::ListTasksRequest req;
    req.set_page_size(50);
    do {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(absl::Seconds(10)));
      v1::ListTasksResponse resp;
      grpc::Status s = current_.Get()->ListTasks(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      all.insert(all.end(), resp.tasks().begin(), resp.tasks().end());
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return all;
  }

  // Every async task upstream holds for the key: task id → status.
  std::map<std::string, std::string> UpstreamAsyncTasks() {
    std::map<std::string, std::string> tasks;
    for (int page = 1;; ++page) {
      nlohmann::json body = nlohmann::json::parse(FetchSimTaskList(
          sim_->base_url(), kApiKey, "page_size=100&page_no=" + std::to_string(page)));
      for (const nlohmann::json& t : body["data"]) {
        tasks[t["task_id"].get<std::string>()] = t["status"].get<std::string>();
      }
      if (page >= body.value("total_page", 0)) break;
    }
    return tasks;
  }

  std::string ReadImage(const std::string& task_id, int index, v1::Image* metadata,
                        grpc::Status* status) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(absl::Seconds(10)));
    v1::ReadImageRequest req;
    req.set_task_id(task_id);
    req.set_index(index);
    auto reader = current_.Get()->ReadImage(&ctx, req);
    std::string bytes;
    v1::ReadImageResponse chunk;
    while (reader->Read(&chunk)) {
      if (chunk.has_metadata()) *metadata = chunk.metadata();
      bytes += chunk.data();
    }
    *status = reader->Finish();
    return bytes;
  }

  std::string LogTail() const {
    std::ifstream in(dir_ + "/gateway.log");
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return log.size() > 6000 ? "..." + log.substr(log.size() - 6000) : log;
  }

  std::string dir_;
  uint64_t seed_ = 0;
  std::unique_ptr<simulator::Simulator> sim_;
  bool ready_ = false;  // false: a store server was skipped
  std::vector<std::string> shared_store_flags_;
  CurrentGateways current_{GetParam().replicas};
};

TEST_P(CrashTest, KillsNeverDuplicateOrResendATask) {
  if (!ready_) return;
  const int replicas = GetParam().replicas;
  std::mt19937_64 rng(seed_);
  std::vector<std::vector<LogicalRequest>> requests(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kRequestsPerClient; ++i) {
      LogicalRequest r;
      r.request_id =
          "crash-" + std::to_string(seed_) + "-" + std::to_string(c) + "-" + std::to_string(i);
      const char* model = kModels[(c + i) % 4];
      r.spec.set_model(model);
      r.spec.set_prompt("a lighthouse, take " + std::to_string(c) + "." + std::to_string(i));
      r.spec.set_seed(static_cast<int64_t>(c * 100 + i));
      if (std::string(model) == "qwen-image-2.0") r.spec.set_n(2);
      requests[c].push_back(std::move(r));
    }
  }

  std::vector<std::unique_ptr<Subprocess>> gateways;
  for (int slot = 0; slot < replicas; ++slot) gateways.push_back(StartGateway(slot));
  ASSERT_NE(current_.Get(), nullptr);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([this, c, &requests, pace_seed = rng()] {
      std::mt19937_64 pace(pace_seed);
      for (LogicalRequest& r : requests[c]) {
        Send(r);
        // The load's shape, not a wait for anything: spread the creates over the kills.
        absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(30, 250)(pace)));
      }
    });
  }
  // The fault schedule: kill -9 a random replica after a random delay, restart it on the same
  // stores.
  const int kills = std::uniform_int_distribution<int>(6, 10)(rng);
  for (int k = 0; k < kills; ++k) {
    const int delay_ms = std::uniform_int_distribution<int>(150, 700)(rng);
    const int slot = std::uniform_int_distribution<int>(0, replicas - 1)(rng);
    absl::SleepFor(absl::Milliseconds(delay_ms));
    std::cout << "kill " << k + 1 << "/" << kills << " of replica " << slot << " after "
              << delay_ms << " ms" << std::endl;
    current_.Set(slot, nullptr);
    gateways[slot]->Signal(SIGKILL);
    gateways[slot]->Wait();
    gateways[slot] = StartGateway(slot);
  }
  for (std::thread& t : clients) t.join();

  // Every logical request got an answer: a task id.
  std::map<std::string, const LogicalRequest*> by_request_id;
  for (const auto& list : requests) {
    for (const LogicalRequest& r : list) {
      EXPECT_TRUE(r.refused.ok()) << r.request_id << ": " << r.refused.error_code() << " "
                                  << r.refused.error_message();
      EXPECT_FALSE(r.task_id.empty()) << r.request_id;
      by_request_id[r.request_id] = &r;
    }
  }
  ASSERT_FALSE(HasFailure()) << LogTail();

  // Every task reaches a terminal state.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::map<std::string, v1::Task> tasks;  // by task id
  for (const auto& [request_id, r] : by_request_id) {
    v1::Task last = WatchToTerminal(r->task_id, deadline);
    EXPECT_TRUE(IsTerminal(last.state()))
        << r->task_id << " (" << request_id << ") is " << v1::TaskState_Name(last.state());
    tasks[r->task_id] = last;
  }

  // Each request id names exactly one task: the one its answer named, which has that request id
  // and spec; asking again returns it; the list holds it once and holds nothing else.
  EXPECT_EQ(tasks.size(), by_request_id.size()) << "two requests were answered with one task";
  for (const auto& [request_id, r] : by_request_id) {
    grpc::ClientContext get_ctx;
    get_ctx.set_deadline(In(absl::Seconds(10)));
    v1::GetTaskRequest get;
    get.set_task_id(r->task_id);
    v1::Task task;
    grpc::Status s = current_.Get()->GetTask(&get_ctx, get, &task);
    ASSERT_TRUE(s.ok()) << r->task_id << ": " << s.error_message();
    EXPECT_EQ(task.request_id(), request_id);
    EXPECT_EQ(task.spec().model(), r->spec.model()) << request_id;
    EXPECT_EQ(task.spec().prompt(), r->spec.prompt()) << request_id;
    v1::Task again;
    grpc::ClientContext create_ctx;
    create_ctx.set_deadline(In(absl::Seconds(10)));
    v1::CreateTaskRequest create;
    create.set_request_id(request_id);
    *create.mutable_spec() = r->spec;
    s = current_.Get()->CreateTask(&create_ctx, create, &again);
    ASSERT_TRUE(s.ok()) << request_id << ": " << s.error_message();
    EXPECT_EQ(again.id(), r->task_id) << request_id;
  }
  std::map<std::string, std::vector<std::string>> listed;  // request id → task ids
  for (const v1::Task& t : ListAll()) listed[t.request_id()].push_back(t.id());
  EXPECT_EQ(listed.size(), by_request_id.size());
  for (const auto& [request_id, ids] : listed) {
    ASSERT_EQ(ids.size(), 1u) << "request id \"" << request_id << "\" has " << ids.size()
                              << " tasks";
    auto r = by_request_id.find(request_id);
    ASSERT_NE(r, by_request_id.end()) << "a task nobody asked for: " << ids[0];
    EXPECT_EQ(ids[0], r->second->task_id);
  }

  // Outcomes: a task succeeds, or fails as outcome-unknown (a kill cut its billed call short);
  // nothing else may come of a kill.
  struct Count {
    int tasks = 0;
    int succeeded = 0;
    int unknown = 0;  // FAILED SubmitOutcomeUnknown
  };
  std::map<v1::UpstreamMode, Count> by_mode;
  std::map<std::string, std::string> claimed;  // upstream task id → gateway task id
  for (const auto& [id, task] : tasks) {
    Count& count = by_mode[task.upstream_mode()];
    ++count.tasks;
    if (task.state() == v1::TASK_STATE_SUCCEEDED) {
      ++count.succeeded;
      EXPECT_TRUE(task.has_submit_time()) << id;
    } else if (task.state() == v1::TASK_STATE_FAILED && IsOutcomeUnknown(task.error())) {
      ++count.unknown;
    } else {
      ADD_FAILURE() << id << " (" << task.spec().model() << ") ended "
                    << v1::TaskState_Name(task.state()) << " " << task.error().code() << ": "
                    << task.error().message();
    }
    if (!task.upstream_task_id().empty()) {
      auto [it, inserted] = claimed.emplace(task.upstream_task_id(), id);
      EXPECT_TRUE(inserted) << "upstream task " << task.upstream_task_id() << " is held by both "
                            << it->second << " and " << id;
    }
  }
  const Count async = by_mode[v1::UPSTREAM_MODE_ASYNC];
  const Count sync = by_mode[v1::UPSTREAM_MODE_SYNC];
  EXPECT_EQ(async.tasks + sync.tasks, static_cast<int>(tasks.size()));
  std::cout << "tasks: async " << async.tasks << " (" << async.succeeded << " succeeded, "
            << async.unknown << " outcome unknown), sync " << sync.tasks << " (" << sync.succeeded
            << " succeeded, " << sync.unknown << " outcome unknown)" << std::endl;

  // Upstream creates: one per task that got a result, at most one for a task whose outcome is
  // unknown, none twice.
  SimStats stats = FetchSimStats(sim_->base_url());
  std::cout << "upstream creates: async " << stats.async_creates << ", sync "
            << stats.sync_generations << std::endl;
  std::map<std::string, std::string> upstream = UpstreamAsyncTasks();
  EXPECT_EQ(static_cast<int64_t>(upstream.size()), stats.async_creates) << stats.json;
  int orphans = 0;  // upstream async tasks no gateway task holds
  for (const auto& [upstream_id, status] : upstream) {
    if (claimed.count(upstream_id) == 0) ++orphans;
  }
  for (const auto& [upstream_id, id] : claimed) {
    EXPECT_EQ(upstream.count(upstream_id), 1u) << id << " holds an unknown upstream task";
  }
  int unknown_async_without_id = 0;
  for (const auto& [id, task] : tasks) {
    if (task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC && task.state() == v1::TASK_STATE_FAILED &&
        task.upstream_task_id().empty()) {
      ++unknown_async_without_id;
    }
  }
  EXPECT_LE(orphans, unknown_async_without_id)
      << "upstream tasks created for no task, or re-sent: " << stats.json;
  EXPECT_GE(stats.async_creates, async.succeeded) << stats.json;
  EXPECT_LE(stats.async_creates, async.tasks) << stats.json;
  EXPECT_GE(stats.sync_generations, sync.succeeded) << stats.json;
  EXPECT_LE(stats.sync_generations, sync.succeeded + sync.unknown)
      << "a sync call was sent twice: " << stats.json;
  EXPECT_LE(stats.async_creates + stats.sync_generations, static_cast<int64_t>(tasks.size()))
      << stats.json;

  // A SUCCEEDED task accounts for every image it asked for, and its images are stored and read
  // back as they were checksummed. Only a sync call cut short between its images' writes may
  // miss some: the images stored before the kill are kept, each missing one is an ImageError
  // LostAtRestart (a sync reply's URLs are not stored, so there is nothing to fetch again).
  int partly_kept = 0;
  for (const auto& [id, task] : tasks) {
    if (task.state() != v1::TASK_STATE_SUCCEEDED) continue;
    EXPECT_GE(task.images_size(), 1) << id;
    EXPECT_EQ(task.images_size() + task.image_errors_size(), std::max(1, task.spec().n())) << id;
    for (const v1::ImageError& e : task.image_errors()) {
      EXPECT_EQ(task.upstream_mode(), v1::UPSTREAM_MODE_SYNC) << id;
      EXPECT_EQ(e.code(), "LostAtRestart") << id;
    }
    if (task.image_errors_size() > 0) ++partly_kept;
    for (const v1::Image& image : task.images()) {
      v1::Image metadata;
      grpc::Status status;
      const std::string bytes = ReadImage(id, image.index(), &metadata, &status);
      ASSERT_TRUE(status.ok()) << id << "/" << image.index() << ": " << status.error_message();
      EXPECT_EQ(store::Sha256Hex(bytes), image.sha256()) << id << "/" << image.index();
      EXPECT_EQ(metadata.sha256(), image.sha256()) << id << "/" << image.index();
      EXPECT_EQ(static_cast<int64_t>(bytes.size()), image.size_bytes()) << id;
    }
  }
  std::cout << "sync tasks kept with part of their images: " << partly_kept << std::endl;
  if (HasFailure()) std::cout << "gateway log (tail):\n" << LogTail() << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Topologies, CrashTest,
                         ::testing::Values(Topology{"SqliteAndDirectory", 1},
                                           Topology{"TwoReplicasOnPostgresAndS3", 2}),
                         [](const ::testing::TestParamInfo<Topology>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace qwenimage::testing
