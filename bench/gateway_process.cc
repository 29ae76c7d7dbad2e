#include "bench/gateway_process.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::bench {

namespace {

constexpr char kLeaseHeld[] = "holds the lease";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Polls `log_path` until the gateway logged that it holds the account lease (bounded: it takes
// the lease of a fresh database at once, so the bound only ends a hang).
absl::Status AwaitLease(const std::string& log_path) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (ReadFile(log_path).find(kLeaseHeld) == std::string::npos) {
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("the gateway never took the account lease; see ", log_path));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Environment>> Environment::Start(const EnvironmentOptions& options) {
  if (options.store != "sqlite" && options.store != "postgres") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown store \"", options.store, "\": sqlite or postgres"));
  }
  if (options.replicas < 1 || (options.replicas > 1 && options.store != "postgres")) {
    return absl::InvalidArgumentError("several replicas need the postgres store");
  }
  if (options.store == "postgres" && options.postgres_dsn.empty()) {
    return absl::InvalidArgumentError("the postgres store needs a DSN");
  }
  auto env = std::unique_ptr<Environment>(new Environment);
  std::filesystem::remove_all(options.work_dir);
  std::filesystem::create_directories(options.work_dir);
  if (options.store == "postgres") {
    // The DSN holds the throwaway server's password: readable by the owner only, never logged.
    const std::string dsn_file = options.work_dir + "/postgres.dsn";
    {
      std::ofstream out(dsn_file);
      out << options.postgres_dsn << "\n";
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", dsn_file));
    }
    std::filesystem::permissions(
        dsn_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  simulator::SimulatorOptions sim;
  sim.api_keys = {kBenchApiKey};
  sim.limits = options.limits;
  sim.task_duration = options.task_duration;
  absl::StatusOr<std::unique_ptr<simulator::Simulator>> started = simulator::Simulator::Start(sim);
  if (!started.ok()) return started.status();
  env->sim_ = *std::move(started);
  for (int i = 0; i < options.replicas; ++i) {
    if (absl::Status s = env->StartGateway(options, i); !s.ok()) return s;
    // Replica 0 takes the lease first, so the roles are known: 0 holds, the others stand by.
    if (options.store == "postgres" && i == 0) {
      if (absl::Status s = AwaitLease(env->gateways_[0].log_path); !s.ok()) return s;
    }
  }
  return env;
}

absl::Status Environment::StartGateway(const EnvironmentOptions& options, int i) {
  const std::string suffix = i == 0 ? "" : absl::StrCat("-", i);
  Gateway g;
  g.log_path = absl::StrCat(options.work_dir, "/gateway", suffix, ".log");
  std::vector<std::string> argv = {options.gateway_binary,
                                   "--listen=127.0.0.1:0",
                                   "--metrics_listen=127.0.0.1:0",
                                   absl::StrCat("--data_dir=", options.work_dir, "/data", suffix),
                                   "--dashscope_base_url=" + sim_->base_url(),
                                   "--allow_loopback_downloads",
                                   "--insecure",
                                   "--auth=none"};
  if (options.store == "postgres") {
    // info, not warn: the lease line is an info line. Nothing is logged per request at info.
    argv.insert(argv.end(), {"--log_level=info", "--store=postgres",
                             "--postgres_dsn_file=" + options.work_dir + "/postgres.dsn"});
    if (options.replicas > 1) {
      argv.insert(argv.end(), {"--lease_ttl=5s", "--claim_interval=200ms"});
    }
  } else {
    argv.push_back("--log_level=warn");
  }
  argv.insert(argv.end(), options.gateway_flags.begin(), options.gateway_flags.end());
  g.process = std::make_unique<testing::Subprocess>(
      argv, std::vector<std::string>{absl::StrCat("DASHSCOPE_API_KEY=", kBenchApiKey)}, g.log_path);
  const int port = g.process->WaitForNumberAfter("listening on port ");
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat("gateway did not start; see ", g.log_path));
  }
  g.target = absl::StrCat("127.0.0.1:", port);
  gateways_.push_back(std::move(g));
  gateways_.back().stub = NewStub(0, i);
  return absl::OkStatus();
}

std::unique_ptr<v1::ImageService::Stub> Environment::NewStub(int connection, int replica) const {
  grpc::ChannelArguments args;
  // A distinct argument keeps channels from sharing one subchannel (one TCP connection).
  args.SetInt("qwenimage.bench.connection", connection);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::ImageService::NewStub(grpc::CreateCustomChannel(
      gateways_[replica].target, grpc::InsecureChannelCredentials(), args));
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
