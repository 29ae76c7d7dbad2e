#include "bench/gateway_process.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::bench {

absl::StatusOr<std::unique_ptr<Environment>> Environment::Start(
    const EnvironmentOptions& options) {
  auto env = std::unique_ptr<Environment>(new Environment);
  std::filesystem::remove_all(options.work_dir);
  std::filesystem::create_directories(options.work_dir);
  simulator::SimulatorOptions sim;
  sim.api_keys = {kBenchApiKey};
  sim.limits = options.limits;
  sim.task_duration = options.task_duration;
  absl::StatusOr<std::unique_ptr<simulator::Simulator>> started = simulator::Simulator::Start(sim);
  if (!started.ok()) return started.status();
  env->sim_ = *std::move(started);
  env->gateway_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{options.gateway_binary, "--listen=127.0.0.1:0",
                               "--metrics_listen=127.0.0.1:0",
                               "--data_dir=" + options.work_dir + "/data",
                               "--dashscope_base_url=" + env->sim_->base_url(),
                               "--allow_loopback_downloads", "--insecure", "--auth=none",
                               "--log_level=warn"},
      std::vector<std::string>{absl::StrCat("DASHSCOPE_API_KEY=", kBenchApiKey)},
      options.work_dir + "/gateway.log");
  int port = env->gateway_->WaitForNumberAfter("listening on port ");
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("gateway did not start; see ", options.work_dir, "/gateway.log"));
  }
  env->target_ = absl::StrCat("127.0.0.1:", port);
  env->stub_ = env->NewStub(0);
  return env;
}

std::unique_ptr<v1::ImageService::Stub> Environment::NewStub(int connection) const {
  grpc::ChannelArguments args;
  // A distinct argument keeps channels from sharing one subchannel (one TCP connection).
  args.SetInt("qwenimage.bench.connection", connection);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::ImageService::NewStub(
      grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args));
}

UpstreamCounts Environment::Upstream() const {
  testing::SimStats stats = testing::FetchSimStats(sim_->base_url());
  nlohmann::json j = nlohmann::json::parse(stats.json);
  UpstreamCounts counts;
  counts.throttled = stats.throttled;
  counts.peak_running = stats.peak_running_max;
  for (auto& [endpoint, by_status] : j["requests"].items()) {
    int64_t n = 0;
    for (auto& [status, count] : by_status.items()) n += count.get<int64_t>();
    counts.requests_by_endpoint[endpoint] = n;
    if (endpoint == "task_get" || endpoint == "task_list" || endpoint == "task_cancel") {
      counts.task_queries += n;
    }
  }
  return counts;
}

std::vector<std::map<std::string, std::string>> Environment::UpstreamTasks() const {
  std::vector<std::map<std::string, std::string>> out;
  for (int page = 1;; ++page) {
    nlohmann::json j = nlohmann::json::parse(testing::FetchSimTaskList(
        sim_->base_url(), kBenchApiKey, absl::StrCat("page_size=100&page_no=", page)));
    for (const nlohmann::json& item : j.value("data", nlohmann::json::array())) {
      std::map<std::string, std::string> row;
      for (auto& [k, v] : item.items()) row[k] = v.is_string() ? v.get<std::string>() : v.dump();
      out.push_back(std::move(row));
    }
    if (page >= j.value("total_page", 0)) break;
  }
  return out;
}

v1::CreateTaskRequest BenchTaskRequest(const std::string& prompt) {
  v1::CreateTaskRequest request;
  request.mutable_spec()->set_model(kBenchModel);
  request.mutable_spec()->set_prompt(prompt);
  return request;
}

}  // namespace qwenimage::bench
