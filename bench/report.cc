#include "bench/report.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/stats.h"

namespace qwenimage::bench {
namespace {

std::string Ms(absl::Duration d) { return absl::StrFormat("%.2f", absl::ToDoubleMilliseconds(d)); }

std::string Errors(const std::map<std::string, int64_t>& errors) {
  if (errors.empty()) return "0";
  return absl::StrJoin(errors, ",", absl::PairFormatter("="));
}

std::string Upstream(const UpstreamCounts& u) {
  if (u.requests_by_endpoint.empty()) return "-";
  return absl::StrCat(absl::StrJoin(u.requests_by_endpoint, ",", absl::PairFormatter("=")),
                      " 429s=", u.throttled);
}

}  // namespace

void FillFromLoad(LoadResult load, Row& row) {
  row.requests = load.requests;
  row.errors = load.errors;
  row.p50 = Percentile(load.latencies, 0.50);
  row.p90 = Percentile(load.latencies, 0.90);
  row.p99 = Percentile(load.latencies, 0.99);
  double secs = absl::ToDoubleSeconds(load.wall);
  row.throughput = secs > 0 ? static_cast<double>(load.requests) / secs : 0;
}

void PrintTable(const std::vector<Row>& rows, std::ostream& out) {
  // The scenario column fits the longest name (e.g. "overhead/get c=32 [postgres]").
  int width = 18;
  for (const Row& r : rows) width = std::max(width, static_cast<int>(r.scenario.size()));
  out << absl::StrFormat("%-*s %8s %-22s %9s %9s %9s %10s %8s %6s  %s\n", width, "scenario",
                         "requests", "errors", "p50_ms", "p90_ms", "p99_ms", "req/s", "rss_MB",
                         "cpu%", "upstream (requests by endpoint, 429s)");
  for (const Row& r : rows) {
    out << absl::StrFormat("%-*s %8d %-22s %9s %9s %9s %10.1f %8.1f %6.1f  %s\n", width, r.scenario,
                           r.requests, Errors(r.errors), Ms(r.p50), Ms(r.p90), Ms(r.p99),
                           r.throughput, r.rss_mb, r.cpu_core * 100, Upstream(r.upstream));
    for (const auto& [name, value] : r.extra) {
      out << absl::StrFormat("%-*s   %s = %s\n", width, "", name, value);
    }
  }
}

void PrintJson(const std::vector<Row>& rows, std::ostream& out) {
  nlohmann::json all = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json extra = nlohmann::json::object();
    for (const auto& [name, value] : r.extra) extra[name] = value;
    all.push_back({{"scenario", r.scenario},
                   {"requests", r.requests},
                   {"errors", r.errors},
                   {"p50_ms", absl::ToDoubleMilliseconds(r.p50)},
                   {"p90_ms", absl::ToDoubleMilliseconds(r.p90)},
                   {"p99_ms", absl::ToDoubleMilliseconds(r.p99)},
                   {"throughput_per_s", r.throughput},
                   {"gateway_rss_mb", r.rss_mb},
                   {"gateway_cpu_percent", r.cpu_core * 100},
                   {"upstream_requests", r.upstream.requests_by_endpoint},
                   {"upstream_429", r.upstream.throttled},
                   {"upstream_peak_running", r.upstream.peak_running},
                   {"extra", extra}});
  }
  out << all.dump(2) << "\n";
}

}  // namespace qwenimage::bench
