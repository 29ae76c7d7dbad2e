// GatewayProcess: one bench environment — an in-process simulator (limits as asked) and a
// qwen-image-gateway child process pointed at it, both on loopback port 0.
#ifndef QWENIMAGE_BENCH_GATEWAY_PROCESS_H_
#define QWENIMAGE_BENCH_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

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
  std::string work_dir;             // data dir and logs go below it
  bool limits = true;               // simulator account limits (2 running, 2 submits/s, 20 QPS)
  simulator::DurationRange task_duration;
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
  static absl::StatusOr<std::unique_ptr<Environment>> Start(const EnvironmentOptions& options);

  v1::ImageService::Stub& stub() { return *stub_; }
  // A stub on its own connection (streams scenarios spread over several).
  std::unique_ptr<v1::ImageService::Stub> NewStub(int connection) const;
  pid_t gateway_pid() const { return gateway_->pid(); }
  const simulator::Simulator& simulator() const { return *sim_; }
  UpstreamCounts Upstream() const;
  // Every upstream task of the bench key as the simulator lists it (GET /tasks, all pages).
  std::vector<std::map<std::string, std::string>> UpstreamTasks() const;

 private:
  std::unique_ptr<simulator::Simulator> sim_;
  std::unique_ptr<testing::Subprocess> gateway_;
  std::string target_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

// A request spec for the bench model.
v1::CreateTaskRequest BenchTaskRequest(const std::string& prompt);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_GATEWAY_PROCESS_H_
