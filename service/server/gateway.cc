#include "service/server/gateway.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "service/api/health_service.h"
#include "service/api/image_service.h"
#include "service/common/clock.h"
#include "service/common/thread_pool.h"
#include "service/dashscope/api_key.h"
#include "service/dashscope/catalog.h"
#include "service/dashscope/dashscope_client.h"
#include "service/http/curl_http_client.h"
#include "service/metrics/grpc_metrics_interceptor.h"
#include "service/metrics/metered_stores.h"
#include "service/metrics/metered_upstream.h"
#include "service/metrics/metrics.h"
#include "service/metrics/metrics_server.h"
#include "service/metrics/task_metrics.h"
#include "service/server/server_limits.h"
#include "service/server/transport.h"
#include "service/server/upstream_probe.h"
#include "service/store/dir_image_store.h"
#include "service/store/s3_credentials.h"
#include "service/store/s3_image_store.h"
#include "service/store/postgres_task_store.h"
#include "service/store/sqlite_task_store.h"
#include "spdlog/spdlog.h"

namespace qwenimage::server {
// Everything Start builds, declared in the order it is built. Stop() tears it down in the order
// teardown needs, for a normal and a failed start alike; the members left are then destroyed in
// reverse order of declaration (each after everything built on it).
struct GatewayParts {
  GatewayOptions options;
  // --models_file or the built-in catalog; the manager and the services refer to it.
  std::unique_ptr<dashscope::ModelCatalog> catalog;
  std::unique_ptr<metrics::Metrics> metrics;
  std::unique_ptr<metrics::TaskMetrics> task_metrics;
  std::unique_ptr<simulator::Simulator> simulator;
  std::string base_url;
  std::shared_ptr<dashscope::ApiKey> api_key;
  std::unique_ptr<dashscope::ApiKeyFile> api_key_file;  // watched on the executor
  // Resolves every ImageService call's tenant; its file is watched on the executor.
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<store::TaskStore> task_store;
  store::ReplicaStore* replicas = nullptr;  // the task store, when replicas share it
  std::unique_ptr<store::ImageStore> image_store;
  const store::DownloadUrlSigner* download_urls = nullptr;  // the S3 store, when presigning
  std::unique_ptr<metrics::MeteredTaskStore> metered_task_store;
  std::unique_ptr<metrics::MeteredImageStore> metered_image_store;
  std::unique_ptr<ThreadPool> executor;
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<dashscope::DashScopeClient> upstream;
  std::unique_ptr<metrics::MeteredUpstream> metered_upstream;
  std::unique_ptr<tasks::TaskManager> manager;
  std::unique_ptr<tasks::ReplicaRole> role;  // with replicas
  std::unique_ptr<api::HealthServiceImpl> health;
  std::unique_ptr<api::ImageServiceImpl> images;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  // Reads the manager at scrape time: declared after it so that it goes first.
  std::shared_ptr<metrics::QueueGauges> queue_gauges;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  std::unique_ptr<UpstreamProbe> probe;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  bool upstream_answered ABSL_GUARDED_BY(mu) = false;
  bool credentials_refused ABSL_GUARDED_BY(mu) = false;
  absl::Notification done;

  // Idempotent. After a drain (Gateway::Shutdown) the server has stopped already; after a
  // failed start it may be running, with nothing drained.
  void Stop() {
    probe.reset();  // it sends through `http` and reports to `health`
    if (server != nullptr) {
      server->Shutdown(absl::ToChronoTime(absl::Now()));
      server->Wait();
    }
    // The watchers poll on the executor and the I/O callbacks post to it and reach the
    // manager: stop them before either goes.
    if (api_key_file != nullptr) api_key_file->StopWatching();
    if (authenticator != nullptr) authenticator->StopWatching();
    if (manager != nullptr) manager->Shutdown();
    // Released once nothing more is written under it: a standby takes over at once.
    if (role != nullptr) role->Stop();
    // Destroying the HTTP client completes its outstanding requests (CANCELLED); those
    // callbacks run through the DashScope client and its metering wrapper, so both go after it.
    http.reset();
    metered_upstream.reset();
    upstream.reset();
    executor.reset();
  }
  ~GatewayParts() { Stop(); }
};

namespace {

// The one place the task store is chosen. `replicas` is set when replicas share it.
absl::StatusOr<std::unique_ptr<store::TaskStore>> OpenTaskStore(const GatewayOptions& o,
                                                                store::ReplicaStore** replicas) {
  if (o.store == "sqlite") {
    absl::StatusOr<std::unique_ptr<store::SqliteTaskStore>> sqlite =
        store::SqliteTaskStore::Open((std::filesystem::path(o.data_dir) / "tasks.db").string());
    if (!sqlite.ok()) return sqlite.status();
    return std::unique_ptr<store::TaskStore>(*std::move(sqlite));
  }
  if (o.store != "postgres") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown task store \"", o.store, "\": sqlite or postgres"));
  }
  store::PostgresTaskStore::Options options;
  if (!o.postgres_dsn_file.empty()) {
    // The connection string may hold a password: it is never logged or put in an error.
    std::ifstream in(o.postgres_dsn_file);
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read --postgres_dsn_file ", o.postgres_dsn_file));
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    options.dsn = std::string(absl::StripAsciiWhitespace(text));
  }
  options.pool_size = o.postgres_pool_size;
  options.statement_timeout = o.postgres_statement_timeout;
  absl::StatusOr<std::unique_ptr<store::PostgresTaskStore>> postgres =
      store::PostgresTaskStore::Open(std::move(options));
  if (!postgres.ok()) return postgres.status();
  spdlog::info("task store: PostgreSQL {} (pool {}, statement timeout {})",
               (*postgres)->description(), o.postgres_pool_size,
               absl::FormatDuration(o.postgres_statement_timeout));
  *replicas = postgres->get();
  return std::unique_ptr<store::TaskStore>(*std::move(postgres));
}

// The one place the image store is chosen. `download_urls` is set when clients get presigned
// URLs (--image_store=s3 with --s3_presign_ttl > 0).
absl::StatusOr<std::unique_ptr<store::ImageStore>> OpenImageStore(
    const GatewayOptions& o, const store::DownloadUrlSigner** download_urls) {
  if (o.image_store == "dir") {
    absl::StatusOr<std::unique_ptr<store::DirImageStore>> dir =
        store::DirImageStore::Open((std::filesystem::path(o.data_dir) / "images").string());
    if (!dir.ok()) return dir.status();
    return std::unique_ptr<store::ImageStore>(*std::move(dir));
  }
  if (o.image_store != "s3") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown image store \"", o.image_store, "\": dir or s3"));
  }
  if (o.s3_credentials_file.empty()) {
    return absl::InvalidArgumentError("--image_store=s3 needs --s3_credentials_file");
  }
  absl::StatusOr<store::S3Credentials> credentials =
      store::ReadS3CredentialsFile(o.s3_credentials_file);
  if (!credentials.ok()) return credentials.status();
  store::S3ImageStore::Options options = o.s3;
  options.credentials = *std::move(credentials);
  absl::StatusOr<std::unique_ptr<store::S3ImageStore>> s3 =
      store::S3ImageStore::Create(std::move(options));
  if (!s3.ok()) return s3.status();
  // A wrong key, secret, region or bucket is a configuration error: refuse to start. An
  // unreachable endpoint may be passing; every store call reports it again.
  if (absl::Status access = (*s3)->CheckAccess(); !access.ok()) {
    if (!absl::IsUnavailable(access) && !absl::IsDeadlineExceeded(access)) return access;
    spdlog::warn("image store: S3 not reachable at start: {}", access.ToString());
  }
  spdlog::info("image store: S3 bucket {} at {} ({}, region {}, presigned URLs {})", o.s3.bucket,
               o.s3.endpoint, o.s3.path_style ? "path-style" : "virtual-hosted", o.s3.region,
               o.s3.presign_ttl > absl::ZeroDuration() ? absl::FormatDuration(o.s3.presign_ttl)
                                                       : "off");
  if (o.s3.presign_ttl > absl::ZeroDuration()) *download_urls = s3->get();
  return std::unique_ptr<store::ImageStore>(*std::move(s3));
}

// Readiness: ImageService is SERVING once upstream answered, unless a drain has begun or
// upstream refuses the key.
void UpdateReadiness(GatewayParts& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
  if (p.shut_down) return;
  // A refused key is not this replica's fault, but it cannot serve: traffic should go elsewhere.
  const bool ready = p.upstream_answered && !p.credentials_refused;
  p.health->Set(api::HealthServiceImpl::kImageService,
                ready ? grpc::health::v1::HealthCheckResponse::SERVING
                      : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
}

void MarkReady(GatewayParts& p) {
  absl::MutexLock lock(&p.mu);
  p.upstream_answered = true;
  UpdateReadiness(p);
}

void SetCredentialsRefused(GatewayParts& p, bool refused) {
  absl::MutexLock lock(&p.mu);
  p.credentials_refused = refused;
  UpdateReadiness(p);
}

// Who callers are, and the metrics and health that depend on it.
absl::Status StartAuthAndMetrics(GatewayParts& p) {
  const GatewayOptions& o = p.options;
  p.metrics = std::make_unique<metrics::Metrics>();
  p.health = std::make_unique<api::HealthServiceImpl>();
  auth::Authenticator::Options options;
  options.mode =
      o.auth_mode.value_or(o.simulate ? auth::AuthMode::kNone : auth::AuthMode::kTokens);
  options.tokens_file = o.tokens_file;
  // Every tenant's quotas before a token's overrides: the quota flags' values.
  options.default_quotas = o.tasks.tenant_defaults;
  absl::StatusOr<std::unique_ptr<auth::Authenticator>> authenticator =
      auth::Authenticator::Create(std::move(options));
  if (!authenticator.ok()) return authenticator.status();
  p.authenticator = *std::move(authenticator);
  const bool tokens = p.authenticator->mode() == auth::AuthMode::kTokens;
  if (tokens) {
    spdlog::info("--auth=tokens: {} tokens and {} mTLS identities from {}",
                 p.authenticator->token_count(), p.authenticator->identity_count(),
                 o.tokens_file);
  } else {
    spdlog::warn("--auth=none: every caller picks its tenant (the {} header, else \"{}\"); for "
                 "local use only",
                 auth::kTenantHeader, auth::kDefaultTenant);
  }
  // Tenant labels only when the token file names (and so bounds) the tenants.
  p.task_metrics = std::make_unique<metrics::TaskMetrics>(
      *p.metrics, [&p](bool refused) { SetCredentialsRefused(p, refused); },
      /*tenant_labels=*/tokens);
  return absl::OkStatus();
}

// The upstream base URL (the embedded simulator's with --simulate) and its key.
// The model catalog (models_file, else the built-in one), and the scheduler limits it seeds.
absl::Status LoadCatalog(GatewayParts& p) {
  GatewayOptions& o = p.options;
  if (o.models_file.empty()) {
    p.catalog = std::make_unique<dashscope::ModelCatalog>(dashscope::ModelCatalog::Default());
  } else {
    absl::StatusOr<dashscope::ModelCatalog> loaded =
        dashscope::ModelCatalog::LoadFile(o.models_file);
    if (!loaded.ok()) return loaded.status();  // "models file PATH: models[i] ..."
    p.catalog = std::make_unique<dashscope::ModelCatalog>(*std::move(loaded));
    spdlog::info("model catalog from {}: {} models", o.models_file, p.catalog->models().size());
  }
  if (!o.seed_model_limits_from_catalog) return absl::OkStatus();
  for (const dashscope::ModelInfo& m : p.catalog->models()) {
    if (!m.default_limits.has_value()) continue;
    tasks::ModelLimits limits = o.tasks.scheduler.default_limits;
    limits.max_running = m.default_limits->max_running;
    limits.submits_per_second = m.default_limits->submits_per_second;
    o.tasks.scheduler.model_limits.try_emplace(m.name, limits);  // a per-model override wins
  }
  return absl::OkStatus();
}

absl::Status ResolveUpstream(GatewayParts& p) {
  GatewayOptions& o = p.options;
  if (o.simulate) {
    o.simulator.region = o.region;
    absl::StatusOr<std::unique_ptr<simulator::Simulator>> sim =
        simulator::Simulator::Start(o.simulator);
    if (!sim.ok()) return sim.status();
    p.simulator = *std::move(sim);
    p.base_url = p.simulator->base_url();
    if (o.api_key.empty() && !o.simulator.api_keys.empty()) o.api_key = o.simulator.api_keys[0];
    o.api_key_file.clear();  // the simulator's own key
    o.allow_loopback_downloads = true;
    spdlog::info("simulated DashScope ({}) at {}", o.region, p.base_url);
  } else if (!o.dashscope_base_url.empty()) {
    if (absl::Status s = dashscope::CheckBaseUrl(o.dashscope_base_url); !s.ok()) return s;
    p.base_url = o.dashscope_base_url;
  } else {
    absl::StatusOr<std::string> url = dashscope::BaseUrlForRegion(o.region);
    if (!url.ok()) return url.status();
    p.base_url = *url;
  }
  if (!o.api_key_file.empty()) {
    absl::StatusOr<std::unique_ptr<dashscope::ApiKeyFile>> file =
        dashscope::ApiKeyFile::Open(o.api_key_file);
    if (!file.ok()) return file.status();
    p.api_key_file = *std::move(file);
    p.api_key = p.api_key_file->key();
  } else if (!o.api_key.empty()) {
    p.api_key = std::make_shared<dashscope::ApiKey>();
    p.api_key->Set(o.api_key);
  } else {
    return absl::FailedPreconditionError(
        "no DashScope API key: set DASHSCOPE_API_KEY or --dashscope_api_key_file, or run with "
        "--simulate");
  }
  return absl::OkStatus();
}

// The task and image stores, the one place either is chosen, and their metering.
absl::Status OpenStores(GatewayParts& p) {
  const GatewayOptions& o = p.options;
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create --data_dir ", o.data_dir, ": ", ec.message()));
  }
  absl::StatusOr<std::unique_ptr<store::TaskStore>> task_store = OpenTaskStore(o, &p.replicas);
  if (!task_store.ok()) return task_store.status();
  p.task_store = *std::move(task_store);
  absl::StatusOr<std::unique_ptr<store::ImageStore>> image_store =
      OpenImageStore(o, &p.download_urls);
  if (!image_store.ok()) return image_store.status();
  p.image_store = *std::move(image_store);
  p.metered_task_store = std::make_unique<metrics::MeteredTaskStore>(*p.task_store, *p.metrics);
  p.metered_image_store =
      std::make_unique<metrics::MeteredImageStore>(*p.image_store, *p.metrics);
  return absl::OkStatus();
}

// The executor, the DashScope client and the task manager (which resumes stored work), and the
// file watchers that run on the executor.
absl::Status StartTasks(GatewayParts& p) {
  GatewayOptions& o = p.options;
  p.executor = std::make_unique<ThreadPool>(o.worker_threads);
  p.http = http::CurlHttpClient::Create(http::CurlHttpClient::Options{});
  if (p.http == nullptr) return absl::InternalError("libcurl could not be initialised");
  dashscope::DashScopeClient::Options client_options;
  client_options.base_url = p.base_url;
  client_options.api_key_source = p.api_key;
  client_options.download_host_suffixes = o.download_host_suffixes;
  client_options.allow_loopback_downloads = o.allow_loopback_downloads;
  p.upstream = std::make_unique<dashscope::DashScopeClient>(*p.http, client_options);
  p.metered_upstream = std::make_unique<metrics::MeteredUpstream>(*p.upstream, *p.metrics);

  o.tasks.region = o.region;
  o.tasks.observer = p.task_metrics.get();
  o.tasks.download_urls = p.download_urls;
  p.metrics->upstream_task_query_budget.Add({}).Set(o.tasks.task_queries_per_second);
  std::function<void(const absl::Status&)> on_lost = o.on_lease_lost;
  if (!on_lost) {
    on_lost = [](const absl::Status& why) {
      // Fail-stop: whatever this replica still holds in memory may be stale; the lease holder
      // resumes it from the store. Nothing is flushed or drained on the way out.
      spdlog::critical("this replica lost the account lease and exits ({}): {}", kExitLeaseLost,
                       why.ToString());
      spdlog::default_logger()->flush();
      std::_Exit(kExitLeaseLost);
    };
  }
  o.tasks.replicas = p.replicas;
  o.tasks.on_fenced = on_lost;
  p.manager = std::make_unique<tasks::TaskManager>(o.tasks, *p.catalog, *p.metered_task_store,
                                                   *p.metered_image_store, *p.metered_upstream,
                                                   *p.executor, *RealClock::Get());
  if (absl::Status s = p.manager->Start(); !s.ok()) return s;
  if (p.replicas != nullptr) {
    tasks::ReplicaRoleOptions replica = o.replica;
    if (replica.holder.empty()) replica.holder = tasks::NewLeaseHolder();
    prometheus::Gauge& epoch_gauge = p.metrics->lease_epoch.Add({});
    epoch_gauge.Set(0);
    replica.on_lead = [&epoch_gauge](int64_t epoch) {
      epoch_gauge.Set(static_cast<double>(epoch));
    };
    spdlog::info("replica {}: lease ttl {}, claims every {}", replica.holder,
                 absl::FormatDuration(replica.lease_ttl),
                 absl::FormatDuration(replica.claim_interval));
    p.role = std::make_unique<tasks::ReplicaRole>(std::move(replica), *p.replicas, *p.manager,
                                                  *p.executor, *RealClock::Get(), on_lost);
    if (absl::Status s = p.role->Start(); !s.ok()) return s;
  }
  // A new key may cure an outage at once, without waiting for the next probe.
  tasks::TaskManager* manager = p.manager.get();
  p.api_key->Subscribe([manager](uint64_t) {
    spdlog::warn("DashScope API key replaced");
    manager->ProbeCredentials();
  });
  if (p.api_key_file != nullptr) {
    p.api_key_file->StartWatching(*p.executor, *RealClock::Get(), o.api_key_poll_interval,
                                  [](const absl::Status& error) {
                                    spdlog::error("API key file: {}", std::string(error.message()));
                                  });
  }
  if (p.authenticator->mode() == auth::AuthMode::kTokens) {
    p.authenticator->StartWatching(*p.executor, *RealClock::Get(), o.tokens_poll_interval,
                                   [](const absl::Status& error) {
                                     spdlog::error("{}", std::string(error.message()));
                                   });
  }
  return absl::OkStatus();
}

absl::Status StartGrpcServer(GatewayParts& p, const ListenerCredentials& transport) {
  const GatewayOptions& o = p.options;
  p.images = std::make_unique<api::ImageServiceImpl>(*p.catalog, *p.authenticator, *p.manager,
                                                     *p.executor, o.heartbeat_interval,
                                                     o.max_watch_streams_per_tenant,
                                                     api::RequestLimits{
                                                         o.limits.max_receive_message_bytes,
                                                         o.limits.max_create_message_bytes});
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  ApplyServerLimits(o.limits, builder);
  builder.AddListeningPort(o.listen, transport.credentials, &p.port);
  builder.RegisterService(p.images.get());
  builder.RegisterService(p.health.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<metrics::GrpcMetricsInterceptorFactory>(*p.metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  p.server = builder.BuildAndStart();
  if (p.server == nullptr || p.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.listen));
  }
  return absl::OkStatus();
}

absl::Status StartMetricsServer(GatewayParts& p) {
  if (p.options.metrics_listen.empty()) return absl::OkStatus();
  const tasks::TaskManager& manager = *p.manager;
  std::vector<std::string> models;
  for (const dashscope::ModelInfo& m : p.catalog->models()) {
    models.push_back(m.name);
  }
  auto gauges = std::make_shared<metrics::QueueGauges>(
      std::move(models), [&manager](const std::string& model) {
        return metrics::QueueGauges::Counts{manager.QueuedCount(model),
                                            manager.RunningCount(model)};
      });
  p.queue_gauges = gauges;
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> server =
      metrics::MetricsServer::Start(p.options.metrics_listen, *p.metrics, {gauges});
  if (!server.ok()) return server.status();
  p.metrics_server = *std::move(server);
  spdlog::info("metrics on http://{}/metrics (port {})", p.options.metrics_listen,
               p.metrics_server->port());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  // A failed start returns at once: `parts` going out of scope is GatewayParts::Stop().
  auto parts = std::make_unique<GatewayParts>();
  GatewayParts& p = *parts;
  p.options = std::move(options);
  // First, so that a transport or limits mistake stops the start before anything is opened.
  absl::StatusOr<ListenerCredentials> transport =
      BuildListenerCredentials(p.options.transport, p.options.simulate);
  if (!transport.ok()) return transport.status();
  if (absl::Status s = CheckServerLimits(p.options.limits); !s.ok()) return s;
  for (absl::Status (*step)(GatewayParts&) :
       {&LoadCatalog, &ResolveUpstream, &StartAuthAndMetrics, &OpenStores, &StartTasks}) {
    if (absl::Status s = step(p); !s.ok()) return s;
  }
  if (absl::Status s = StartGrpcServer(p, *transport); !s.ok()) return s;
  if (absl::Status s = StartMetricsServer(p); !s.ok()) return s;
  // Live once the stores are open and the server runs; ready once upstream answers too.
  p.health->Set("", grpc::health::v1::HealthCheckResponse::SERVING);
  p.probe = std::make_unique<UpstreamProbe>(*p.http, p.base_url, p.options.upstream_probe_interval,
                                            [&p] { MarkReady(p); });
  p.probe->WaitFirstAttempt();
  spdlog::info("qwen-image-gateway listening on port {}, {} (region {}, store {}, images {})",
               p.port, transport->description, p.options.region, p.options.store,
               p.options.image_store);
  return std::unique_ptr<Gateway>(new Gateway(std::move(parts)));
}

Gateway::Gateway(std::unique_ptr<GatewayParts> parts) : parts_(std::move(parts)) {}

Gateway::~Gateway() { Shutdown(absl::ZeroDuration()); }

int Gateway::port() const { return parts_->port; }

int Gateway::metrics_port() const {
  return parts_->metrics_server != nullptr ? parts_->metrics_server->port() : 0;
}

const std::string& Gateway::upstream_base_url() const { return parts_->base_url; }

void Gateway::Shutdown(absl::Duration grace) {
  GatewayParts& p = *parts_;
  {
    absl::MutexLock lock(&p.mu);
    if (p.shut_down) return;
    p.shut_down = true;
  }
  const absl::Time deadline = absl::Now() + grace;
  spdlog::info("draining: NOT_SERVING, nothing new admitted, streams told to reconnect; billed "
               "work in flight gets up to {} to finish",
               absl::FormatDuration(grace));
  p.metrics->draining.Add({}).Set(1);
  p.health->SetAll(grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  p.manager->BeginDrain();
  p.images->Drain();
  p.health->EndWatches();
  if (p.manager->AwaitDrained(deadline)) {
    spdlog::info("billed work in flight finished and stored");
  } else {
    spdlog::warn("drain grace ended with billed work in flight; the next start resumes it");
  }
  // Calls still open (a GenerateImages waiting for a queued task) get what is left, if any.
  p.server->Shutdown(absl::ToChronoTime(std::max(deadline, absl::Now())));
  p.server->Wait();
  p.manager->Shutdown();
  p.done.Notify();
  spdlog::info("drained");
}

absl::Status Gateway::ReloadTokens() {
  absl::StatusOr<bool> reloaded = parts_->authenticator->Reload();
  if (!reloaded.ok()) {
    spdlog::error("{}", std::string(reloaded.status().message()));
    return reloaded.status();
  }
  if (*reloaded) {
    spdlog::info("tokens file {} re-read: {} tokens, {} identities", parts_->options.tokens_file,
                 parts_->authenticator->token_count(), parts_->authenticator->identity_count());
  }
  return absl::OkStatus();
}

absl::Status Gateway::ReloadApiKey() {
  if (parts_->api_key_file == nullptr) return absl::OkStatus();
  return parts_->api_key_file->Reload();
}

void Gateway::Wait() { parts_->done.WaitForNotification(); }

}  // namespace qwenimage::server
