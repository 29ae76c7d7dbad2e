// The named benchmark scenarios. Each starts its own simulator and gateway, drives them and
// returns its rows of the report.
#ifndef QWENIMAGE_BENCH_SCENARIOS_H_
#define QWENIMAGE_BENCH_SCENARIOS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/postgres.h"
#include "bench/report.h"

namespace qwenimage::bench {

struct BenchOptions {
  std::string gateway_binary;
  std::string bench_binary;  // this binary: started with --echo_reply for the echo server
  std::string work_dir;
  std::string store = "sqlite";       // the gateways' task store: "sqlite" or "postgres"
  BenchPostgres* postgres = nullptr;  // the run's server: with "postgres", and for `replicas`
  int overhead_concurrency = 32;
  absl::Duration overhead_duration = absl::Seconds(5);
  int burst_tasks = 200;
  int burst_tenants = 20;
  absl::Duration burst_task_duration = absl::Seconds(1);
  int lag_tasks = 24;
  int streams = 10000;
  int stream_connections = 100;
  absl::Duration idle_window = absl::Seconds(10);
  int fairness_big = 40;    // tasks of the heavy tenant, sent first
  int fairness_small = 4;   // tasks of the light tenant, sent right after
};

absl::StatusOr<std::vector<Row>> RunOverhead(const BenchOptions& options);
absl::StatusOr<std::vector<Row>> RunBurst(const BenchOptions& options);
absl::StatusOr<std::vector<Row>> RunLag(const BenchOptions& options);
absl::StatusOr<std::vector<Row>> RunStreams(const BenchOptions& options);
absl::StatusOr<std::vector<Row>> RunFairness(const BenchOptions& options);
// Two replicas on PostgreSQL (whatever options.store says), the burst split over them.
absl::StatusOr<std::vector<Row>> RunReplicas(const BenchOptions& options);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_SCENARIOS_H_
