#include "bench/scenarios.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/gateway_process.h"
#include "bench/load.h"
#include "bench/stats.h"
#include "bench/watchers.h"
#include "tests/testing/subprocess.h"

namespace qwenimage::bench {
namespace {

using Requests = std::vector<std::pair<std::string, v1::CreateTaskRequest>>;

// The simulator's account limits when they are on (its defaults, DashScope's documented ones).
constexpr int kRunningLimit = 2;
constexpr double kSubmitsPerSecond = 2;
constexpr double kTaskQueriesPerSecond = 20;

// Starts the scenario's environment on options.store; several replicas always on PostgreSQL,
// each environment on a database of its own.
absl::StatusOr<std::unique_ptr<Environment>> StartEnvironment(const BenchOptions& options,
                                                              const std::string& name, bool limits,
                                                              absl::Duration min,
                                                              absl::Duration max,
                                                              int replicas = 1,
                                                              std::vector<std::string> flags = {}) {
  EnvironmentOptions env;
  env.gateway_binary = options.gateway_binary;
  env.work_dir = absl::StrCat(options.work_dir, "/", name);
  env.limits = limits;
  env.task_duration = {min, max};
  env.replicas = replicas;
  env.gateway_flags = std::move(flags);
  env.store = replicas > 1 ? "postgres" : options.store;
  if (env.store == "postgres") {
    if (options.postgres == nullptr) return absl::InternalError("no PostgreSQL for the bench");
    absl::StatusOr<std::string> dsn = options.postgres->NewDatabaseDsn();
    if (!dsn.ok()) return dsn.status();
    env.postgres_dsn = *std::move(dsn);
  }
  return Environment::Start(env);
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string Fixed(double v, int digits = 1) { return absl::StrFormat("%.*f", digits, v); }

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%.0f ms", absl::ToDoubleMilliseconds(d));
}

Requests MakeRequests(int n, int tenants, const std::string& tenant_prefix) {
  Requests requests;
  for (int i = 0; i < n; ++i) {
    requests.emplace_back(absl::StrCat(tenant_prefix, i % tenants),
                          BenchTaskRequest(absl::StrCat("bench image ", i)));
  }
  return requests;
}

// Creates every request at once and opens a watcher on each created task.
LoadResult SubmitAndWatch(Environment& env, const Requests& requests, Watchers& watchers) {
  std::vector<v1::Task> tasks;
  LoadResult created = CreateAll(env.stub(), requests, &tasks);
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].id().empty()) watchers.Watch(env.stub(), requests[i].first, tasks[i].id());
  }
  return created;
}

std::map<std::string, int> CountStates(const std::vector<WatchRecord>& records) {
  std::map<std::string, int> states;
  for (const WatchRecord& r : records) {
    states[r.terminal_at == absl::InfinitePast() ? "UNFINISHED"
                                                 : v1::TaskState_Name(r.final_task.state())]++;
  }
  return states;
}

// CPU meters on every replica of an environment, started together.
class GatewaysCpu {
 public:
  explicit GatewaysCpu(const Environment& env) {
    for (int i = 0; i < env.replicas(); ++i) meters_.emplace_back(env.gateway_pid(i));
  }
  double CoreFraction(int replica) const { return meters_[replica].CoreFraction(); }

 private:
  std::vector<CpuMeter> meters_;
};

double RssMb(const Environment& env, int replica) {
  return static_cast<double>(RssBytes(env.gateway_pid(replica))) / (1 << 20);
}

// RSS and CPU of the gateways (summed over the replicas) and the upstream counts.
void AddGatewayFigures(Environment& env, const GatewaysCpu& cpu, Row& row) {
  row.rss_mb = 0;
  row.cpu_core = 0;
  for (int i = 0; i < env.replicas(); ++i) {
    row.rss_mb += RssMb(env, i);
    row.cpu_core += cpu.CoreFraction(i);
  }
  row.upstream = env.Upstream();
}

// Busy upstream slot time over the window from the first create to the last end, as the
// simulator lists its tasks (epoch ms).
struct SlotUse {
  double busy_seconds = 0;
  double window_seconds = 0;
  std::map<std::string, absl::Time> end_by_task;
};

SlotUse UpstreamSlotUse(const Environment& env) {
  SlotUse use;
  int64_t first = INT64_MAX;
  int64_t last = 0;
  for (const auto& row : env.UpstreamTasks()) {
    int64_t created = 0, started = 0, ended = 0;
    auto get = [&row](const char* k, int64_t* v) {
      auto it = row.find(k);
      return it != row.end() && absl::SimpleAtoi(it->second, v);
    };
    if (!get("gmt_create", &created) || !get("start_time", &started) || !get("end_time", &ended)) {
      continue;
    }
    first = std::min(first, created);
    last = std::max(last, ended);
    use.busy_seconds += static_cast<double>(ended - started) / 1000;
    use.end_by_task[row.at("task_id")] = absl::FromUnixMillis(ended);
  }
  if (last > first) use.window_seconds = static_cast<double>(last - first) / 1000;
  return use;
}

// The burst figures of `row`, whose upstream counts are filled: final states, 429s, peak
// upstream running, running-slot utilisation and tasks/min against the ceiling, wall.
void AddBurstFigures(const std::vector<WatchRecord>& records, const SlotUse& use, absl::Duration d,
                     double wall, Row& row) {
  std::map<std::string, int> states = CountStates(records);
  // Ceiling: the running limit keeps at most 2/d tasks per second going, the submit rate 2/s.
  const double ceiling_per_min =
      60 * std::min(kRunningLimit / absl::ToDoubleSeconds(d), kSubmitsPerSecond);
  const int succeeded = states["TASK_STATE_SUCCEEDED"];
  row.extra.emplace_back("tasks by final state",
                         absl::StrJoin(states, ",", absl::PairFormatter("=")));
  row.extra.emplace_back("upstream 429s", absl::StrCat(row.upstream.throttled));
  row.extra.emplace_back("peak upstream running", absl::StrCat(row.upstream.peak_running));
  row.extra.emplace_back(
      "running-slot utilisation (first create..last end)",
      absl::StrCat(Fixed(100 * use.busy_seconds / (kRunningLimit * use.window_seconds)), "%"));
  row.extra.emplace_back(
      "tasks/min vs ceiling",
      absl::StrCat(Fixed(60 * succeeded / use.window_seconds), " / ", Fixed(ceiling_per_min)));
  row.extra.emplace_back("wall (first create..last watcher event)",
                         absl::StrCat(Fixed(wall), " s"));
}

absl::Duration SettleTimeout(int tasks, absl::Duration mean_duration) {
  return mean_duration * (tasks / static_cast<double>(kRunningLimit)) * 2 + absl::Seconds(120);
}

}  // namespace

absl::StatusOr<std::vector<Row>> RunOverhead(const BenchOptions& options) {
  auto env = StartEnvironment(options, "overhead", /*limits=*/false, absl::Milliseconds(200),
                              absl::Milliseconds(200));
  if (!env.ok()) return env.status();
  Watchers watchers;
  SubmitAndWatch(**env, MakeRequests(1, 1, "overhead-"), watchers);
  if (!watchers.AwaitTerminal(absl::Seconds(60))) {
    return absl::DeadlineExceededError("overhead: the task did not finish");
  }
  const v1::Task task = watchers.Records().front().final_task;
  // The echo runs in a process of its own, as the gateway does, so both pay the same
  // cross-process wake-ups.
  const std::string dir = absl::StrCat(options.work_dir, "/overhead");
  {
    std::ofstream out(dir + "/echo_reply.pb", std::ios::binary);
    if (!task.SerializeToOstream(&out)) return absl::InternalError("cannot write the echo reply");
  }
  testing::Subprocess echo({options.bench_binary, "--echo_reply=" + dir + "/echo_reply.pb"}, {},
                           dir + "/echo.log");
  const int echo_port = echo.WaitForNumberAfter("listening on port ");
  if (echo_port <= 0) return absl::UnavailableError("the echo server did not start");
  auto echo_stub = v1::ImageService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", echo_port), grpc::InsecureChannelCredentials()));

  std::vector<Row> rows;
  for (int concurrency : {1, options.overhead_concurrency}) {
    Row gateway;
    gateway.scenario = absl::StrCat("overhead/get c=", concurrency);
    GatewaysCpu cpu(**env);
    FillFromLoad(RunGetTaskLoad((*env)->stub(), "overhead-0", task.id(), concurrency,
                                options.overhead_duration),
                 gateway);
    AddGatewayFigures(**env, cpu, gateway);
    Row bare;
    bare.scenario = absl::StrCat("overhead/echo c=", concurrency);
    FillFromLoad(
        RunGetTaskLoad(*echo_stub, "overhead-0", task.id(), concurrency, options.overhead_duration),
        bare);
    double ratio = absl::FDivDuration(gateway.p50, bare.p50);
    gateway.extra.emplace_back("p50 ratio gateway/echo", Fixed(ratio, 2));
    gateway.extra.emplace_back("throughput ratio gateway/echo",
                               Fixed(gateway.throughput / bare.throughput, 2));
    rows.push_back(std::move(gateway));
    rows.push_back(std::move(bare));
  }
  return rows;
}

absl::StatusOr<std::vector<Row>> RunBurst(const BenchOptions& options) {
  const absl::Duration d = options.burst_task_duration;
  auto env = StartEnvironment(options, "burst", /*limits=*/true, d, d);
  if (!env.ok()) return env.status();
  GatewaysCpu cpu(**env);
  Watchers watchers;
  const absl::Time start = absl::Now();
  Row row;
  row.scenario = "burst (create)";
  FillFromLoad(
      SubmitAndWatch(**env, MakeRequests(options.burst_tasks, options.burst_tenants, "tenant-"),
                     watchers),
      row);
  watchers.AwaitTerminal(SettleTimeout(options.burst_tasks, d));
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  AddGatewayFigures(**env, cpu, row);
  AddBurstFigures(watchers.Records(), UpstreamSlotUse(**env), d, wall, row);
  return std::vector<Row>{std::move(row)};
}

absl::StatusOr<std::vector<Row>> RunLag(const BenchOptions& options) {
  auto env = StartEnvironment(options, "lag", /*limits=*/true, absl::Seconds(2), absl::Seconds(8));
  if (!env.ok()) return env.status();
  GatewaysCpu cpu(**env);
  Watchers watchers;
  const absl::Time start = absl::Now();
  LoadResult created = SubmitAndWatch(**env, MakeRequests(options.lag_tasks, 4, "lag-"), watchers);
  watchers.AwaitTerminal(SettleTimeout(options.lag_tasks, absl::Seconds(5)));
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  Row row;
  row.scenario = "lag (notice)";
  AddGatewayFigures(**env, cpu, row);  // before the bench's own list calls below
  SlotUse use = UpstreamSlotUse(**env);
  LoadResult lags;
  lags.errors = created.errors;
  for (const WatchRecord& r : watchers.Records()) {
    ++lags.requests;
    if (r.terminal_at == absl::InfinitePast()) {
      ++lags.errors["UNFINISHED"];
      continue;
    }
    auto end = use.end_by_task.find(r.final_task.upstream_task_id());
    if (end == use.end_by_task.end()) {
      ++lags.errors[v1::TaskState_Name(r.final_task.state())];
      continue;
    }
    lags.latencies.push_back(r.terminal_at - end->second);
  }
  lags.wall = absl::Seconds(wall);
  FillFromLoad(std::move(lags), row);
  row.throughput = 0;  // not a rate scenario
  row.extra.emplace_back("measures",
                         "watcher's terminal event arrival - simulator task end_time (list, "
                         "epoch ms); includes the image download");
  const double budget = kTaskQueriesPerSecond * wall;
  row.extra.emplace_back("task queries (get+list+cancel) vs budget 20/s x wall",
                         absl::StrCat(row.upstream.task_queries, " / ", Fixed(budget, 0)));
  row.extra.emplace_back(
      "task queries per task",
      Fixed(static_cast<double>(row.upstream.task_queries) / std::max(1, options.lag_tasks), 1));
  return std::vector<Row>{std::move(row)};
}

absl::StatusOr<std::vector<Row>> RunStreams(const BenchOptions& options) {
  // Tasks that stay RUNNING upstream for the whole scenario, so every stream stays open.
  // One tenant holds every stream: its --max_watch_streams_per_tenant bound (100) is lifted.
  auto env = StartEnvironment(options, "streams", /*limits=*/false, absl::Hours(1), absl::Hours(1),
                              /*replicas=*/1, {"--max_watch_streams_per_tenant=0"});
  if (!env.ok()) return env.status();
  constexpr int kTasks = 10;
  std::vector<v1::Task> tasks;
  CreateAll((*env)->stub(), MakeRequests(kTasks, 1, "streams-"), &tasks);
  std::vector<std::unique_ptr<v1::ImageService::Stub>> stubs;
  for (int i = 0; i < options.stream_connections; ++i) stubs.push_back((*env)->NewStub(i + 1));

  const int64_t rss_before = RssBytes((*env)->gateway_pid());
  Row row;
  row.scenario = "streams (idle)";
  Watchers watchers;
  const absl::Time start = absl::Now();
  for (int i = 0; i < options.streams; ++i) {
    watchers.Watch(*stubs[i % stubs.size()], "streams-0", tasks[i % tasks.size()].id());
  }
  const bool all_open = watchers.AwaitSnapshots(options.streams, absl::Seconds(120));
  const absl::Duration open_time = absl::Now() - start;
  const int64_t rss_after = RssBytes((*env)->gateway_pid());
  GatewaysCpu cpu(**env);
  absl::SleepFor(options.idle_window);  // a benchmark, not a test: the window is the measure
  AddGatewayFigures(**env, cpu, row);
  LoadResult streams;
  for (const WatchRecord& r : watchers.Records()) {
    ++streams.requests;
    if (r.done && !r.status.ok()) ++streams.errors[CodeName(r.status.error_code())];
    if (!r.first_event) ++streams.errors["NO_SNAPSHOT"];
  }
  streams.wall = open_time;
  FillFromLoad(std::move(streams), row);
  row.extra.emplace_back("all streams open", all_open ? "yes" : "no");
  row.extra.emplace_back("open time", Ms(open_time));
  row.extra.emplace_back(
      "gateway RSS before / after opening",
      absl::StrCat(Fixed(rss_before / 1048576.0), " MB / ", Fixed(rss_after / 1048576.0), " MB"));
  row.extra.emplace_back(
      "RSS per stream",
      absl::StrCat(Fixed(static_cast<double>(rss_after - rss_before) / options.streams / 1024),
                   " KiB"));
  row.extra.emplace_back("idle CPU over window",
                         absl::StrCat(Fixed(row.cpu_core * 100, 2), "% of a core over ",
                                      absl::FormatDuration(options.idle_window)));
  return std::vector<Row>{std::move(row)};
}

absl::StatusOr<std::vector<Row>> RunFairness(const BenchOptions& options) {
  const absl::Duration d = options.burst_task_duration;
  auto env = StartEnvironment(options, "fairness", /*limits=*/true, d, d);
  if (!env.ok()) return env.status();
  GatewaysCpu cpu(**env);
  Watchers watchers;
  LoadResult heavy =
      SubmitAndWatch(**env, MakeRequests(options.fairness_big, 1, "heavy-"), watchers);
  LoadResult light =
      SubmitAndWatch(**env, MakeRequests(options.fairness_small, 1, "light-"), watchers);
  watchers.AwaitTerminal(SettleTimeout(options.fairness_big + options.fairness_small, d));
  Row row;
  row.scenario = "fairness";
  heavy.latencies.insert(heavy.latencies.end(), light.latencies.begin(), light.latencies.end());
  heavy.requests += light.requests;
  for (const auto& [code, n] : light.errors) heavy.errors[code] += n;
  FillFromLoad(std::move(heavy), row);
  AddGatewayFigures(**env, cpu, row);

  std::vector<WatchRecord> records = watchers.Records();
  std::sort(records.begin(), records.end(), [](const WatchRecord& a, const WatchRecord& b) {
    return a.terminal_at < b.terminal_at;
  });
  std::vector<int> light_ranks;
  std::vector<absl::Duration> heavy_times, light_times;
  int rank = 0;
  for (const WatchRecord& r : records) {
    if (r.terminal_at == absl::InfinitePast()) continue;
    ++rank;
    const v1::Task& t = r.final_task;
    absl::Duration turnaround = FromProto(t.end_time()) - FromProto(t.create_time());
    const bool is_light = r.tenant.rfind("light-", 0) == 0;
    (is_light ? light_times : heavy_times).push_back(turnaround);
    if (is_light) light_ranks.push_back(rank);
  }
  row.extra.emplace_back("light tenant's completion ranks",
                         absl::StrCat(absl::StrJoin(light_ranks, ","), " of ", rank,
                                      " (sent after ", options.fairness_big, " heavy tasks)"));
  row.extra.emplace_back(
      "turnaround p50 heavy / light",
      absl::StrCat(Ms(Percentile(heavy_times, 0.5)), " / ", Ms(Percentile(light_times, 0.5))));
  return std::vector<Row>{std::move(row)};
}

absl::StatusOr<std::vector<Row>> RunReplicas(const BenchOptions& options) {
  // Two gateways on one PostgreSQL database (and one simulated account): replica 0 holds the
  // lease (admits, submits, polls), replica 1 stores its creates for it and follows the rows
  // through LISTEN/NOTIFY. Each replica's images stay in its own --data_dir, so the holder's disk
  // has them all; the bench reads none.
  constexpr int kReplicas = 2;
  const absl::Duration d = options.burst_task_duration;
  auto env = StartEnvironment(options, "replicas", /*limits=*/true, d, d, kReplicas);
  if (!env.ok()) return env.status();
  GatewaysCpu cpu(**env);
  std::vector<v1::ImageService::Stub*> stubs;
  for (int i = 0; i < kReplicas; ++i) stubs.push_back(&(*env)->stub(i));
  const Requests requests = MakeRequests(options.burst_tasks, options.burst_tenants, "tenant-");
  Watchers watchers;
  std::map<std::string, int> watched_on;  // task id -> replica its watcher is on
  const absl::Time start = absl::Now();
  Row row;
  row.scenario = "replicas (burst)";
  std::vector<v1::Task> tasks;
  // Request i is created on replica i % 2 and watched on the other one.
  FillFromLoad(CreateAll(stubs, requests, &tasks), row);
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].id().empty()) continue;
    const int other = static_cast<int>((i + 1) % kReplicas);
    watched_on[tasks[i].id()] = other;
    watchers.Watch(*stubs[other], requests[i].first, tasks[i].id());
  }
  watchers.AwaitTerminal(SettleTimeout(options.burst_tasks, d));
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  AddGatewayFigures(**env, cpu, row);
  std::vector<std::string> per_replica;  // read with the columns' sums
  for (int i = 0; i < kReplicas; ++i) {
    per_replica.push_back(absl::StrCat(i, i == 0 ? " (holder)" : " (standby)", " ",
                                       Fixed(RssMb(**env, i)), " MB ",
                                       Fixed(100 * cpu.CoreFraction(i)), "%"));
  }
  const std::vector<WatchRecord> records = watchers.Records();
  const SlotUse use = UpstreamSlotUse(**env);
  AddBurstFigures(records, use, d, wall, row);

  // When each watcher saw the end, against the simulator's end_time, by the replica it is on.
  std::vector<absl::Duration> notice[kReplicas];
  for (const WatchRecord& r : records) {
    if (r.terminal_at == absl::InfinitePast()) continue;
    auto end = use.end_by_task.find(r.final_task.upstream_task_id());
    if (end == use.end_by_task.end()) continue;
    notice[watched_on[r.task_id]].push_back(r.terminal_at - end->second);
  }
  for (int i = 0; i < kReplicas; ++i) {
    row.extra.emplace_back(
        absl::StrCat(
            "notice (watcher's end - upstream end) p50 / p90 on ",
            i == 0 ? "the holder (created on the standby)" : "the standby (created on the holder)"),
        absl::StrCat(Ms(Percentile(notice[i], 0.5)), " / ", Ms(Percentile(notice[i], 0.9)), " (",
                     notice[i].size(), " tasks)"));
  }
  row.extra.emplace_back("RSS / CPU by replica (the columns sum them)",
                         absl::StrJoin(per_replica, ", "));
  return std::vector<Row>{std::move(row)};
}

}  // namespace qwenimage::bench
