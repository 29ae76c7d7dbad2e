// qwen-image-bench: drives a qwen-image-gateway process over gRPC against the DashScope simulator
// (account limits on where the scenario needs them) and prints one table, or JSON.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/echo_server.h"
#include "bench/postgres.h"
#include "bench/report.h"
#include "bench/scenarios.h"

ABSL_FLAG(std::string, scenarios, "overhead,burst,lag,streams,fairness,replicas",
          "comma-separated scenarios to run, in order");
ABSL_FLAG(std::string, store, "sqlite",
          "the gateways' task store: sqlite, or postgres (one throwaway PostgreSQL server for "
          "the run, a database per scenario); the replicas scenario always uses postgres");
ABSL_FLAG(std::string, gateway, QWENIMAGE_GATEWAY_BINARY, "the qwen-image-gateway binary to start");
ABSL_FLAG(std::string, work_dir, "/tmp/qwen-image-bench", "data directories and gateway logs");
ABSL_FLAG(bool, json, false, "print JSON instead of the table");
ABSL_FLAG(int, overhead_concurrency, 32, "overhead: GetTask calls in flight (throughput phase)");
ABSL_FLAG(absl::Duration, overhead_duration, absl::Seconds(5), "overhead: length of each phase");
ABSL_FLAG(int, burst_tasks, 200, "burst, replicas: tasks submitted at once");
ABSL_FLAG(int, burst_tenants, 20, "burst, replicas: tenants they come from");
ABSL_FLAG(absl::Duration, task_duration, absl::Seconds(1),
          "burst, fairness, replicas: simulated upstream task duration");
ABSL_FLAG(int, lag_tasks, 24, "lag: tasks (durations 2..8 s)");
ABSL_FLAG(int, streams, 10000, "streams: idle WatchTask streams held");
ABSL_FLAG(int, stream_connections, 100,
          "streams: client connections they are spread over (the gateway serves at most "
          "--max_streams_per_connection=100 streams on each)");
ABSL_FLAG(absl::Duration, idle_window, absl::Seconds(10), "streams: idle CPU measurement window");
ABSL_FLAG(int, fairness_heavy, 40, "fairness: tasks of the heavy tenant, sent first");
ABSL_FLAG(std::string, echo_reply, "",
          "internal: serve the Task serialized in this file as the overhead scenario's echo "
          "server, in this process, instead of running scenarios");
ABSL_FLAG(int, fairness_light, 4, "fairness: tasks of the light tenant, sent right after");

namespace qwenimage::bench {
namespace {

int Main(const char* argv0) {
  if (const std::string reply = absl::GetFlag(FLAGS_echo_reply); !reply.empty()) {
    return ServeEcho(reply);
  }
  BenchOptions options;
  std::error_code error;
  options.bench_binary = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) options.bench_binary = argv0;
  options.gateway_binary = absl::GetFlag(FLAGS_gateway);
  options.work_dir = absl::GetFlag(FLAGS_work_dir);
  options.store = absl::GetFlag(FLAGS_store);
  if (options.store != "sqlite" && options.store != "postgres") {
    std::cerr << "--store must be sqlite or postgres, not " << options.store << "\n";
    return 2;
  }
  // Started by the first scenario that needs a database; stopped when the run ends.
  BenchPostgres postgres;
  options.postgres = &postgres;
  options.overhead_concurrency = absl::GetFlag(FLAGS_overhead_concurrency);
  options.overhead_duration = absl::GetFlag(FLAGS_overhead_duration);
  options.burst_tasks = absl::GetFlag(FLAGS_burst_tasks);
  options.burst_tenants = absl::GetFlag(FLAGS_burst_tenants);
  options.burst_task_duration = absl::GetFlag(FLAGS_task_duration);
  options.lag_tasks = absl::GetFlag(FLAGS_lag_tasks);
  options.streams = absl::GetFlag(FLAGS_streams);
  options.stream_connections = absl::GetFlag(FLAGS_stream_connections);
  options.idle_window = absl::GetFlag(FLAGS_idle_window);
  options.fairness_big = absl::GetFlag(FLAGS_fairness_heavy);
  options.fairness_small = absl::GetFlag(FLAGS_fairness_light);

  using Runner = absl::StatusOr<std::vector<Row>> (*)(const BenchOptions&);
  const std::vector<std::pair<std::string, Runner>> known = {
      {"overhead", RunOverhead}, {"burst", RunBurst},       {"lag", RunLag},
      {"streams", RunStreams},   {"fairness", RunFairness}, {"replicas", RunReplicas}};
  std::vector<Row> rows;
  int failures = 0;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_scenarios), ',', absl::SkipEmpty())) {
    Runner run = nullptr;
    for (const auto& [known_name, fn] : known) {
      if (known_name == name) run = fn;
    }
    if (run == nullptr) {
      std::cerr << "unknown scenario: " << name << "\n";
      return 2;
    }
    std::cerr << "running " << name << " ...\n";
    absl::StatusOr<std::vector<Row>> result = run(options);
    if (!result.ok()) {
      std::cerr << name << " failed: " << result.status() << "\n";
      // No fallback to SQLite: without the server the run measures nothing it was asked to.
      if (postgres.start_failed()) return 1;
      ++failures;
      continue;
    }
    // Rows name their store unless it is the default (replicas are on PostgreSQL by name).
    if (options.store != "sqlite" && name != "replicas") {
      for (Row& row : *result) absl::StrAppend(&row.scenario, " [", options.store, "]");
    }
    rows.insert(rows.end(), result->begin(), result->end());
  }
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(rows, std::cout);
  } else {
    PrintTable(rows, std::cout);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace qwenimage::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "qwen-image-bench [--scenarios=overhead,burst,lag,streams,fairness,replicas] "
      "[--store=sqlite|postgres] [--json]");
  absl::ParseCommandLine(argc, argv);
  return qwenimage::bench::Main(argv[0]);
}
