// GatewayProcess: one bench environment — an in-process simulator (limits as asked) and one or
// more qwen-image-gateway child processes pointed at it, all on loopback port 0. Several
// gateways are replicas on one PostgreSQL database.
#ifndef QWENIMAGE_BENCH_GATEWAY_PROCESS_H_
#define QWENIMAGE_BENCH_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/simulator/simulator.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::bench {

inline constexpr char kBenchApiKey[] = "sk-bench";
inline constexpr char kBenchModel[] = "qwen-image-plus";

struct EnvironmentOptions {
  std::string gateway_binary;
  std::string work_dir;  // data dirs, logs and the DSN file go below it
  bool limits = true;    // simulator account limits (2 running, 2 submits/s, 20 QPS)
  simulator::DurationRange task_duration;
  std::string store = "sqlite";  // "sqlite" (tasks.db per data dir) or "postgres"
  std::string postgres_dsn;      // with "postgres": libpq DSN of an empty database
  // Gateway processes on the same database and simulator; more than 1 needs "postgres". Each
  // keeps its images in its own --data_dir (the dir image store), so a task finished by one
  // replica has its images on that replica's disk only: fine for the bench, which reads none.
  int replicas = 1;
  // Further gateway flags (e.g. lifting a per-tenant bound a scenario exceeds on purpose).
  std::vector<std::string> gateway_flags;
};

// Upstream traffic as the simulator counted it.
struct UpstreamCounts {
  std::map<std::string, int64_t> requests_by_endpoint;
  int64_t throttled = 0;  // 429 replies
  int64_t peak_running = 0;
  int64_t task_queries = 0;  // GET task + list + cancel: what the task-API budget covers
};

class Environment {
 public:
  // With "postgres", replica 0 holds the account lease before Start returns (and before any
  // other replica starts), so it is the one that admits and polls.
  static absl::StatusOr<std::unique_ptr<Environment>> Start(const EnvironmentOptions& options);

  int replicas() const { return static_cast<int>(gateways_.size()); }
  // Replica 0's stub, or replica i's.
  v1::ImageService::Stub& stub() { return stub(0); }
  v1::ImageService::Stub& stub(int i) { return *gateways_[i].stub; }
  // A stub of `replica` on its own connection (streams scenarios spread over several).
  std::unique_ptr<v1::ImageService::Stub> NewStub(int connection, int replica = 0) const;
  pid_t gateway_pid() const { return gateway_pid(0); }
  pid_t gateway_pid(int i) const { return gateways_[i].process->pid(); }
  const simulator::Simulator& simulator() const { return *sim_; }
  UpstreamCounts Upstream() const;
  // Every upstream task of the bench key as the simulator lists it (GET /tasks, all pages).
  std::vector<std::map<std::string, std::string>> UpstreamTasks() const;

 private:
  struct Gateway {
    std::string log_path;
    std::unique_ptr<testing::Subprocess> process;
    std::string target;
    std::unique_ptr<v1::ImageService::Stub> stub;
  };

  // Starts replica `i` (the next one) and waits for its port.
  absl::Status StartGateway(const EnvironmentOptions& options, int i);

  std::unique_ptr<simulator::Simulator> sim_;
  std::vector<Gateway> gateways_;  // after sim_: the gateways stop first
};

// A request spec for the bench model.
v1::CreateTaskRequest BenchTaskRequest(const std::string& prompt);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_GATEWAY_PROCESS_H_
