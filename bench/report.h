// Report: one row per scenario (or scenario part) with the common columns, plus named extra
// figures; printed as one table or as JSON.
#ifndef QWENIMAGE_BENCH_REPORT_H_
#define QWENIMAGE_BENCH_REPORT_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/gateway_process.h"
#include "bench/load.h"

namespace qwenimage::bench {

struct Row {
  std::string scenario;
  int64_t requests = 0;
  std::map<std::string, int64_t> errors;
  absl::Duration p50, p90, p99;
  double throughput = 0;  // requests per second
  double rss_mb = 0;      // gateway, at the end of the scenario
  double cpu_core = 0;    // gateway CPU over the scenario, fraction of one core
  UpstreamCounts upstream;
  std::vector<std::pair<std::string, std::string>> extra;  // scenario-specific figures
};

// Fills requests, errors, percentiles and throughput from a load result.
void FillFromLoad(LoadResult load, Row& row);

void PrintTable(const std::vector<Row>& rows, std::ostream& out);
void PrintJson(const std::vector<Row>& rows, std::ostream& out);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_REPORT_H_
