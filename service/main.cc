// qwen-image-gateway: the gRPC server. Flags map onto server::GatewayOptions; the API key comes
// from DASHSCOPE_API_KEY or --dashscope_api_key_file and is never printed.
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/logging/logging.h"
#include "service/logging/redact.h"
#include "service/server/gateway.h"
#include "service/server/process_hardening.h"
#include "service/tasks/retention.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC listen address (host:port; port 0 picks one)");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9090",
          "Prometheus /metrics address (host:port; port 0 picks one; empty: none)");
ABSL_FLAG(std::string, data_dir, "./data", "directory of the task database and stored images");
ABSL_FLAG(std::string, region, "singapore", "DashScope region: singapore or beijing");
ABSL_FLAG(std::string, dashscope_base_url, "",
          "override the upstream base URL (default: the region's, e.g. "
          "https://dashscope-intl.aliyuncs.com/api/v1)");
ABSL_FLAG(std::string, dashscope_api_key_file, "",
          "file holding the DashScope API key (e.g. a mounted Kubernetes secret), re-read when it "
          "changes and on SIGHUP; else the DASHSCOPE_API_KEY environment variable is used");
ABSL_FLAG(bool, simulate, false,
          "run the DashScope simulator in-process on a loopback port and use it as upstream (no "
          "key needed)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the gRPC listener (with --tls_key); re-read when it changes");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert; re-read when it changes");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: mTLS, every client must present a certificate they issued "
          "(re-read when it changes)");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(10),
          "how often the TLS files are checked for new contents (whole seconds, >= 1s)");
ABSL_FLAG(bool, insecure, false,
          "serve gRPC in plaintext on purpose (without TLS the gateway refuses to start unless "
          "this or --simulate is given)");
ABSL_FLAG(std::string, auth, "",
          "who callers are: tokens (a bearer token or mTLS client identity from --tokens_file) "
          "or none (the self-asserted x-qwenimage-tenant header; local use only). Default: "
          "none with --simulate, tokens otherwise");
ABSL_FLAG(std::string, tokens_file, "",
          "JSON file of SHA-256-hashed bearer tokens and mTLS identities, each mapped to a "
          "tenant and its quotas (a mounted secret; re-read when it changes and on SIGHUP)");
ABSL_FLAG(absl::Duration, tokens_poll_interval, absl::Seconds(2),
          "how often --tokens_file is checked for changes");
ABSL_FLAG(std::string, sim_task_duration, "200ms..600ms",
          "with --simulate: simulated task duration, fixed (\"2s\") or a range (\"1s..3s\")");
ABSL_FLAG(std::string, store, "sqlite",
          "task store: sqlite (embedded, tasks.db under --data_dir) or postgres (shared by "
          "replicas; see --postgres_dsn_file)");
ABSL_FLAG(std::string, postgres_dsn_file, "",
          "with --store=postgres: file holding a libpq connection string or URI (e.g. a mounted "
          "secret); empty: libpq's environment (PGHOST, PGDATABASE, PGUSER, PGPASSFILE, ...)");
ABSL_FLAG(int, postgres_pool_size, 8, "with --store=postgres: connections to the database");
ABSL_FLAG(absl::Duration, lease_ttl, absl::Seconds(15),
          "with --store=postgres: the account lease's duration. One replica holds it and admits "
          "and polls for the account; another takes over within lease_ttl + lease_ttl/3 of its "
          "holder dying (at once after a drain). A holder that cannot renew it in time exits (75)");
ABSL_FLAG(absl::Duration, claim_interval, absl::Seconds(2),
          "with --store=postgres: the lease holder looks for tasks stored by other replicas and "
          "their cancel requests this often, besides each change notification");
ABSL_FLAG(absl::Duration, postgres_statement_timeout, absl::Seconds(5),
          "with --store=postgres: statement_timeout of every connection (a store call that hits "
          "it fails and is retried by the task manager)");
ABSL_FLAG(std::string, image_store, "dir",
          "image store: dir (images/ under --data_dir) or s3 (an S3-compatible bucket shared by "
          "replicas: AWS S3, Alibaba OSS, MinIO; see the --s3_* flags)");
ABSL_FLAG(std::string, s3_endpoint, "",
          "with --image_store=s3: scheme://host[:port] of the S3 API, e.g. "
          "https://oss-cn-hangzhou.aliyuncs.com, https://s3.eu-west-1.amazonaws.com, "
          "http://minio:9000");
ABSL_FLAG(std::string, s3_bucket, "", "with --image_store=s3: the bucket");
ABSL_FLAG(std::string, s3_region, "us-east-1",
          "with --image_store=s3: the SigV4 signing region (OSS: e.g. cn-hangzhou)");
ABSL_FLAG(std::string, s3_credentials_file, "",
          "with --image_store=s3: file with access_key_id=... and secret_access_key=... lines "
          "(a mounted secret; never logged)");
ABSL_FLAG(bool, s3_path_style, true,
          "with --image_store=s3: endpoint/bucket/key URLs (MinIO); false: virtual-hosted "
          "bucket.endpoint/key (OSS requires it, AWS prefers it)");
ABSL_FLAG(absl::Duration, s3_presign_ttl, absl::ZeroDuration(),
          "with --image_store=s3: GetTask, ListTasks and ReadImage hand out Image.download_url, "
          "a presigned GET valid this long (at most 168h); 0 = none, bytes only via ReadImage");
ABSL_FLAG(std::string, download_allow_hosts, ".aliyuncs.com",
          "comma-separated domains from which result images may be downloaded, matched on whole "
          "DNS labels (https on 443; the resolved address must be public)");
ABSL_FLAG(bool, allow_loopback_downloads, false,
          "also download result images from loopback hosts and addresses, over http too (for a "
          "local dashscope-sim; implied by --simulate)");
ABSL_FLAG(int, max_queued_tasks, 10000, "tasks waiting for upstream capacity, all tenants");
ABSL_FLAG(int, max_queued_per_tenant, 1000,
          "tasks waiting for upstream capacity, per tenant (the max_queued quota's default; 0 = "
          "unlimited)");
ABSL_FLAG(int, tenant_max_running, 0,
          "upstream slots of one model a tenant may hold while another tenant waits for that "
          "model (the max_running quota's default; 0 = a fair share of --max_running among the "
          "tenants with work); with nobody else waiting a tenant may use every idle slot");
ABSL_FLAG(int, tenant_creates_per_minute, 0,
          "new tasks per tenant per rolling minute (the creates_per_minute quota's default; 0 = "
          "unlimited)");
ABSL_FLAG(int, tenant_images_per_day, 0,
          "images requested (sum of n) per tenant per rolling 24 hours (the images_per_day "
          "quota's default; 0 = unlimited)");
// Unset: 2 each for a model without default limits in the catalog, the catalog's for the others.
ABSL_FLAG(std::optional<int>, max_running, std::nullopt,
          "tasks in flight upstream per model (the account's limit; default 2); given, it "
          "applies to every model instead of the catalog's default limits");
ABSL_FLAG(std::optional<double>, submits_per_second, std::nullopt,
          "upstream submits per second per model (default 2); given, it applies to every model "
          "instead of the catalog's default limits");
ABSL_FLAG(std::string, model_limits, "",
          "per-model overrides, \"model=running:submits_per_second,...\" (e.g. "
          "\"qwen-image-max=4:1\"); they win over the catalog and --max_running");
ABSL_FLAG(std::string, models_file, "",
          "model catalog file (the format of service/dashscope/models.json) replacing the "
          "built-in one; read at start, a bad file stops the start");
ABSL_FLAG(int, queue_ahead, 1,
          "async models: tasks submitted beyond the running limit to wait PENDING upstream, so "
          "a slot freed upstream is reused at once (0 = never exceed it; turned off by itself "
          "for a model whose upstream answers Throttling.Concurrency instead of queueing)");
ABSL_FLAG(double, task_queries_per_second, 20,
          "upstream task-API calls (GET task, list, cancel) per second for the account");
ABSL_FLAG(absl::Duration, min_poll_interval, absl::Milliseconds(100),
          "densest poll of one task near its expected end (the budget may stretch it)");
ABSL_FLAG(int, poll_list_threshold, 8,
          "with this many tasks of one model upstream, learn their ends from one batch list "
          "instead of a GET each");
ABSL_FLAG(absl::Duration, watch_heartbeat, absl::Seconds(15),
          "heartbeat interval on idle WatchTask streams");
ABSL_FLAG(absl::Duration, drain_grace, absl::Seconds(310),
          "on SIGTERM/SIGINT, how long billed work in flight (sync calls, creates, image "
          "downloads) may take to finish and be stored; a sync call can take 300 s");
ABSL_FLAG(absl::Duration, max_retry_after, absl::Seconds(60),
          "cap on an upstream Retry-After hint (429/503): no single reply stalls work longer");
ABSL_FLAG(absl::Duration, key_outage_timeout, absl::Minutes(15),
          "while DashScope refuses the API key, submissions and polls pause; tasks still queued "
          "after this long fail with KeyOutage");
ABSL_FLAG(absl::Duration, task_ttl, absl::ZeroDuration(),
          "delete a finished task (its record, images and request_id) this long after it "
          "finished; 0 = keep forever");
ABSL_FLAG(absl::Duration, image_ttl, absl::ZeroDuration(),
          "delete a finished task's stored images this long after it finished, keeping its "
          "record (GetTask shows images_expire_time, ReadImage is NOT_FOUND); 0 = as long as "
          "the task; at most --task_ttl");
ABSL_FLAG(int, recent_tasks, 10000,
          "finished tasks kept in memory for GetTask and WatchTask (least recently used go "
          "first); 0 = every such read goes to the task store");
ABSL_FLAG(absl::Duration, retention_sweep_interval, absl::Minutes(1),
          "how often --task_ttl and --image_ttl are applied (in batches of 500 per sweep)");
ABSL_FLAG(absl::Duration, api_key_poll_interval, absl::Seconds(2),
          "how often --dashscope_api_key_file is checked for a new key (also re-read on SIGHUP)");
ABSL_FLAG(int, worker_threads, 4, "task-manager worker threads");
ABSL_FLAG(int, max_streams_per_connection, 100,
          "concurrent gRPC calls per client connection (HTTP/2 MAX_CONCURRENT_STREAMS); further "
          "calls wait in the client until one ends");
ABSL_FLAG(int, max_receive_message_bytes, 4 << 20,
          "largest gRPC request accepted, create methods aside; larger ones fail "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_create_message_bytes, 32 << 20,
          "largest CreateTask/GenerateImages/GenerateImagesStream request accepted (an edit "
          "carries its input images: three of 10 MiB fit the default); larger ones fail "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_watch_streams_per_tenant, 100,
          "open WatchTask/GenerateImagesStream streams per tenant; more fail RESOURCE_EXHAUSTED "
          "(0 = no cap)");
ABSL_FLAG(std::string, grpc_memory_limit, "512MiB",
          "memory gRPC may use for connections and calls (a grpc::ResourceQuota; e.g. 512MiB, "
          "1GiB)");
ABSL_FLAG(int, grpc_max_threads, 64,
          "threads gRPC may create for its synchronous services (0 = gRPC's default)");
ABSL_FLAG(absl::Duration, grpc_keepalive_time, absl::Minutes(1),
          "the server pings a connection after this long without activity and closes it if no "
          "answer comes within --grpc_keepalive_timeout (a vanished client frees its calls)");
ABSL_FLAG(absl::Duration, grpc_keepalive_timeout, absl::Seconds(20),
          "see --grpc_keepalive_time");
ABSL_FLAG(absl::Duration, grpc_min_client_ping_interval, absl::Seconds(10),
          "a client ping sooner than this after the last one, or while it has no call open, is "
          "a strike; past --grpc_max_ping_strikes the connection is closed (GOAWAY "
          "too_many_pings)");
ABSL_FLAG(int, grpc_max_ping_strikes, 2, "see --grpc_min_client_ping_interval");
ABSL_FLAG(absl::Duration, grpc_max_connection_idle, absl::Minutes(10),
          "a connection without calls for this long is closed (GOAWAY; clients reconnect); 0 = "
          "never");
ABSL_FLAG(absl::Duration, grpc_max_connection_age, absl::ZeroDuration(),
          "every connection is closed after this long (GOAWAY), calls still open get "
          "--grpc_max_connection_age_grace; 0 = never");
ABSL_FLAG(absl::Duration, grpc_max_connection_age_grace, absl::Minutes(5),
          "see --grpc_max_connection_age");
ABSL_FLAG(std::string, log_level, "info",
          "trace, debug, info, warn, error; SIGUSR1 raises verbosity a step, SIGUSR2 lowers it");
ABSL_FLAG(std::string, log_format, "auto",
          "json (one object per line), text, or auto (text on a terminal, json otherwise)");
ABSL_FLAG(bool, log_prompts, false, "include prompts in logs (they are user content)");

namespace {

using qwenimage::server::Gateway;
using qwenimage::server::GatewayOptions;

// The key file is opened (and watched) by the gateway; the environment is read once here, and
// the variable erased either way (a key file wins).
void ReadApiKeyFromEnvironment(std::string* key) {
  std::optional<std::string> env =
      qwenimage::server::TakeSecretFromEnvironment("DASHSCOPE_API_KEY");
  if (!env.has_value() || !absl::GetFlag(FLAGS_dashscope_api_key_file).empty()) return;
  *key = std::string(absl::StripAsciiWhitespace(*env));
}

absl::Status ParseModelLimits(const std::string& text, qwenimage::tasks::SchedulerOptions* out) {
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    std::pair<std::string, std::string> lr = absl::StrSplit(kv.second, absl::MaxSplits(':', 1));
    qwenimage::tasks::ModelLimits limits;
    if (kv.first.empty() || !absl::SimpleAtoi(lr.first, &limits.max_running) ||
        !absl::SimpleAtod(lr.second, &limits.submits_per_second)) {
      return absl::InvalidArgumentError(
          "--model_limits: expected model=running:submits_per_second, got \"" +
          std::string(entry) + "\"");
    }
    out->model_limits[kv.first] = limits;
  }
  return absl::OkStatus();
}

absl::StatusOr<GatewayOptions> OptionsFromFlags() {
  GatewayOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.region = absl::GetFlag(FLAGS_region);
  if (o.region != "singapore" && o.region != "beijing") {
    return absl::InvalidArgumentError("--region must be singapore or beijing");
  }
  o.store = absl::GetFlag(FLAGS_store);
  if (o.store != "sqlite" && o.store != "postgres") {
    return absl::InvalidArgumentError("--store must be sqlite or postgres");
  }
  o.postgres_dsn_file = absl::GetFlag(FLAGS_postgres_dsn_file);
  o.postgres_pool_size = absl::GetFlag(FLAGS_postgres_pool_size);
  o.postgres_statement_timeout = absl::GetFlag(FLAGS_postgres_statement_timeout);
  o.replica.lease_ttl = absl::GetFlag(FLAGS_lease_ttl);
  o.replica.claim_interval = absl::GetFlag(FLAGS_claim_interval);
  if (o.replica.lease_ttl < absl::Seconds(1) || o.replica.claim_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--lease_ttl must be at least 1s and --claim_interval positive");
  }
  if (o.postgres_pool_size < 1 || o.postgres_statement_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--postgres_pool_size must be >= 1 and --postgres_statement_timeout > 0");
  }
  o.image_store = absl::GetFlag(FLAGS_image_store);
  if (o.image_store != "dir" && o.image_store != "s3") {
    return absl::InvalidArgumentError("--image_store must be dir or s3");
  }
  o.s3.endpoint = absl::GetFlag(FLAGS_s3_endpoint);
  o.s3.bucket = absl::GetFlag(FLAGS_s3_bucket);
  o.s3.region = absl::GetFlag(FLAGS_s3_region);
  o.s3.path_style = absl::GetFlag(FLAGS_s3_path_style);
  o.s3.presign_ttl = absl::GetFlag(FLAGS_s3_presign_ttl);
  o.s3_credentials_file = absl::GetFlag(FLAGS_s3_credentials_file);
  if (o.s3.presign_ttl < absl::ZeroDuration() || o.s3.presign_ttl > absl::Hours(168)) {
    return absl::InvalidArgumentError("--s3_presign_ttl must be between 0 and 168h");
  }
  o.dashscope_base_url = absl::GetFlag(FLAGS_dashscope_base_url);
  o.simulate = absl::GetFlag(FLAGS_simulate);
  o.transport.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.transport.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.transport.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.transport.tls_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  o.transport.insecure = absl::GetFlag(FLAGS_insecure);
  if (const std::string auth = absl::GetFlag(FLAGS_auth); !auth.empty()) {
    absl::StatusOr<qwenimage::auth::AuthMode> mode = qwenimage::auth::ParseAuthMode(auth);
    if (!mode.ok()) return mode.status();
    o.auth_mode = *mode;
  }
  o.tokens_file = absl::GetFlag(FLAGS_tokens_file);
  o.tokens_poll_interval = absl::GetFlag(FLAGS_tokens_poll_interval);
  if (o.tokens_poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--tokens_poll_interval must be > 0");
  }
  ReadApiKeyFromEnvironment(&o.api_key);
  o.api_key_file = absl::GetFlag(FLAGS_dashscope_api_key_file);
  o.api_key_poll_interval = absl::GetFlag(FLAGS_api_key_poll_interval);
  if (o.simulate) {
    absl::StatusOr<qwenimage::simulator::DurationRange> d =
        qwenimage::simulator::ParseDurationRange(absl::GetFlag(FLAGS_sim_task_duration));
    if (!d.ok()) return d.status();
    o.simulator.task_duration = *d;
    o.api_key.clear();  // the simulator's own key
  }
  o.download_host_suffixes =
      absl::StrSplit(absl::GetFlag(FLAGS_download_allow_hosts), ',', absl::SkipEmpty());
  o.allow_loopback_downloads = absl::GetFlag(FLAGS_allow_loopback_downloads);
  o.heartbeat_interval = absl::GetFlag(FLAGS_watch_heartbeat);
  o.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  qwenimage::server::ServerLimits& limits = o.limits;
  limits.max_streams_per_connection = absl::GetFlag(FLAGS_max_streams_per_connection);
  limits.max_receive_message_bytes = absl::GetFlag(FLAGS_max_receive_message_bytes);
  limits.max_create_message_bytes = absl::GetFlag(FLAGS_max_create_message_bytes);
  absl::StatusOr<int64_t> memory =
      qwenimage::server::ParseByteSize(absl::GetFlag(FLAGS_grpc_memory_limit));
  if (!memory.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--grpc_memory_limit: ", memory.status().message()));
  }
  limits.memory_limit_bytes = *memory;
  limits.max_threads = absl::GetFlag(FLAGS_grpc_max_threads);
  limits.keepalive_time = absl::GetFlag(FLAGS_grpc_keepalive_time);
  limits.keepalive_timeout = absl::GetFlag(FLAGS_grpc_keepalive_timeout);
  limits.min_client_ping_interval = absl::GetFlag(FLAGS_grpc_min_client_ping_interval);
  limits.max_ping_strikes = absl::GetFlag(FLAGS_grpc_max_ping_strikes);
  limits.max_connection_idle = absl::GetFlag(FLAGS_grpc_max_connection_idle);
  limits.max_connection_age = absl::GetFlag(FLAGS_grpc_max_connection_age);
  limits.max_connection_age_grace = absl::GetFlag(FLAGS_grpc_max_connection_age_grace);
  if (absl::Status st = qwenimage::server::CheckServerLimits(limits); !st.ok()) return st;
  o.max_watch_streams_per_tenant = absl::GetFlag(FLAGS_max_watch_streams_per_tenant);
  if (o.max_watch_streams_per_tenant < 0) {
    return absl::InvalidArgumentError("--max_watch_streams_per_tenant must be >= 0");
  }
  qwenimage::tasks::SchedulerOptions& s = o.tasks.scheduler;
  s.max_queued_total = absl::GetFlag(FLAGS_max_queued_tasks);
  qwenimage::tasks::TenantQuotas& quotas = o.tasks.tenant_defaults;
  quotas.max_queued = absl::GetFlag(FLAGS_max_queued_per_tenant);
  quotas.max_running = absl::GetFlag(FLAGS_tenant_max_running);
  quotas.creates_per_minute = absl::GetFlag(FLAGS_tenant_creates_per_minute);
  quotas.images_per_day = absl::GetFlag(FLAGS_tenant_images_per_day);
  if (quotas.max_queued < 0 || quotas.max_running < 0 || quotas.creates_per_minute < 0 ||
      quotas.images_per_day < 0) {
    return absl::InvalidArgumentError(
        "--max_queued_per_tenant and --tenant_* quotas must be >= 0 (0 = unlimited)");
  }
  const std::optional<int> max_running = absl::GetFlag(FLAGS_max_running);
  const std::optional<double> submits_per_second = absl::GetFlag(FLAGS_submits_per_second);
  s.default_limits.max_running = max_running.value_or(2);
  s.default_limits.submits_per_second = submits_per_second.value_or(2);
  if (absl::Status st = ParseModelLimits(absl::GetFlag(FLAGS_model_limits), &s); !st.ok()) {
    return st;
  }
  // Limits, most specific first: --model_limits, then --max_running/--submits_per_second when
  // given, then the catalog's default limits of the model, then those two flags' defaults.
  o.models_file = absl::GetFlag(FLAGS_models_file);
  o.seed_model_limits_from_catalog = !max_running.has_value() && !submits_per_second.has_value();
  o.tasks.queue_ahead = absl::GetFlag(FLAGS_queue_ahead);
  o.tasks.task_queries_per_second = absl::GetFlag(FLAGS_task_queries_per_second);
  o.tasks.min_poll_interval = absl::GetFlag(FLAGS_min_poll_interval);
  o.tasks.poll_list_threshold = absl::GetFlag(FLAGS_poll_list_threshold);
  o.tasks.max_retry_after = absl::GetFlag(FLAGS_max_retry_after);
  o.tasks.key_outage_timeout = absl::GetFlag(FLAGS_key_outage_timeout);
  o.tasks.retention.task_ttl = absl::GetFlag(FLAGS_task_ttl);
  o.tasks.retention.image_ttl = absl::GetFlag(FLAGS_image_ttl);
  o.tasks.retention.sweep_interval = absl::GetFlag(FLAGS_retention_sweep_interval);
  o.tasks.recent_tasks = absl::GetFlag(FLAGS_recent_tasks);
  if (o.tasks.recent_tasks < 0) return absl::InvalidArgumentError("--recent_tasks must be >= 0");
  if (absl::Status st = qwenimage::tasks::ValidateRetentionOptions(o.tasks.retention); !st.ok()) {
    return st;
  }
  if (o.tasks.queue_ahead < 0 || o.tasks.poll_list_threshold < 1 ||
      o.tasks.min_poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--queue_ahead must be >= 0, --poll_list_threshold >= 1 and --min_poll_interval > 0");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "qwen-image-gateway: gRPC gateway to Alibaba Cloud DashScope Qwen-Image.\n"
      "  qwen-image-gateway --simulate            # offline, with the built-in simulator\n"
      "  DASHSCOPE_API_KEY=sk-... qwen-image-gateway --region=singapore \\\n"
      "      --tls_cert=server.pem --tls_key=server.key   # or --insecure for plaintext");
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil without NDEBUG, which leaves Mutex deadlock detection on: a lock-order
  // graph updated on every lock. The tests keep it; the service does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Logs go to stderr; stdout carries only the "... on port N" lines that scripts read.
  absl::StatusOr<qwenimage::logging::LogFormat> log_format =
      qwenimage::logging::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  absl::StatusOr<spdlog::level::level_enum> log_level =
      qwenimage::logging::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!log_format.ok() || !log_level.ok()) {
    std::cerr << "qwen-image-gateway: "
              << (log_format.ok() ? log_level.status() : log_format.status()).message() << "\n";
    return 2;
  }
  qwenimage::logging::SetUpLogging("qwen-image-gateway", *log_format, *log_level);
  qwenimage::logging::SetLogPrompts(absl::GetFlag(FLAGS_log_prompts));
  // Before any secret is read: no core dumps, no ptrace by other users.
  if (absl::Status s = qwenimage::server::HardenProcess(); !s.ok()) {
    std::cerr << "qwen-image-gateway: " << s.message() << "\n";
    return 1;
  }

  // Signals are taken by one thread with sigwait, so no handler runs on a gRPC thread.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer that hangs up mid-write must fail that write, not end the process.
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<GatewayOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "qwen-image-gateway: " << options.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Gateway>> gateway = Gateway::Start(*std::move(options));
  if (!gateway.ok()) {
    std::cerr << "qwen-image-gateway: " << gateway.status().message() << "\n";
    return 1;
  }
  // Scripts and tests read the bound ports from these lines.
  std::cout << "listening on port " << (*gateway)->port() << std::endl;
  if ((*gateway)->metrics_port() != 0) {
    std::cout << "metrics on port " << (*gateway)->metrics_port() << std::endl;
  }

  // The signal thread lives to the end so that a second signal exits at once even while the
  // drain or the teardown after it hangs; main itself drains once asked to.
  absl::Notification drain_requested;
  // The signal thread outlives the gateway: it reaches it only under this lock.
  static absl::Mutex running_mu;
  static Gateway* running ABSL_GUARDED_BY(running_mu) = nullptr;
  {
    absl::MutexLock lock(&running_mu);
    running = gateway->get();
  }
  std::thread([&signals, &drain_requested] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGHUP) {
        absl::MutexLock lock(&running_mu);
        if (running == nullptr) continue;
        absl::Status reloaded = running->ReloadApiKey();
        spdlog::warn("signal {}: API key file re-read{}{}", sig, reloaded.ok() ? "" : ": ",
                     std::string(reloaded.message()));
        (void)running->ReloadTokens();  // logs what it did
      } else if (sig == SIGUSR1 || sig == SIGUSR2) {
        spdlog::level::level_enum level =
            qwenimage::logging::StepLogLevel(sig == SIGUSR1 ? 1 : -1);
        // At warn so that the change shows at every level but error.
        spdlog::warn("signal {}: log level now {}", sig,
                     spdlog::level::to_string_view(level).data());
      } else if (drain_requested.HasBeenNotified()) {
        spdlog::warn("second signal {}: exiting now", sig);
        std::_Exit(1);
      } else {
        spdlog::info("signal {}: draining (a second signal exits at once)", sig);
        drain_requested.Notify();
      }
    }
  }).detach();
  drain_requested.WaitForNotification();
  (*gateway)->Shutdown(absl::GetFlag(FLAGS_drain_grace));
  {
    absl::MutexLock lock(&running_mu);
    running = nullptr;
  }
  gateway->reset();
  return 0;
}
