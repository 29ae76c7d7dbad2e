#include "service/server/gateway.h"

#include <filesystem>
#include <utility>

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
#include "service/dashscope/dashscope_client.h"
#include "service/http/curl_http_client.h"
#include "service/store/dir_image_store.h"
#include "service/store/sqlite_task_store.h"
#include "spdlog/spdlog.h"

namespace qwenimage::server {

// Members are declared in construction order and destroyed in reverse, which is the order
// teardown needs: the server first, then the task manager's I/O, then its executor, then state.
struct Gateway::Parts {
  GatewayOptions options;
  std::string base_url;
  std::unique_ptr<simulator::Simulator> simulator;
  std::unique_ptr<store::SqliteTaskStore> task_store;
  std::unique_ptr<store::DirImageStore> image_store;
  std::unique_ptr<tasks::TaskManager> manager;
  std::unique_ptr<ThreadPool> executor;
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<dashscope::DashScopeClient> upstream;
  std::unique_ptr<api::HealthServiceImpl> health;
  std::unique_ptr<api::ImageServiceImpl> images;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  absl::Notification done;

  ~Parts() {
    // I/O callbacks post to the executor and reach the manager: stop them before either goes.
    if (manager) manager->Shutdown();
    upstream.reset();
    http.reset();
    executor.reset();
  }
};

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  auto parts = std::make_unique<Parts>();
  Parts& p = *parts;
  p.options = std::move(options);
  GatewayOptions& o = p.options;

  if (o.simulate) {
    o.simulator.region = o.region;
    absl::StatusOr<std::unique_ptr<simulator::Simulator>> sim =
        simulator::Simulator::Start(o.simulator);
    if (!sim.ok()) return sim.status();
    p.simulator = *std::move(sim);
    p.base_url = p.simulator->base_url();
    if (o.api_key.empty() && !o.simulator.api_keys.empty()) o.api_key = o.simulator.api_keys[0];
    o.allow_loopback_downloads = true;
    spdlog::info("simulated DashScope ({}) at {}", o.region, p.base_url);
  } else if (!o.dashscope_base_url.empty()) {
    p.base_url = o.dashscope_base_url;
  } else {
    absl::StatusOr<std::string> url = dashscope::BaseUrlForRegion(o.region);
    if (!url.ok()) return url.status();
    p.base_url = *url;
  }
  if (o.api_key.empty()) {
    return absl::FailedPreconditionError(
        "no DashScope API key: set DASHSCOPE_API_KEY or --dashscope_api_key_file, or run with "
        "--simulate");
  }

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create --data_dir ", o.data_dir, ": ", ec.message()));
  }
  absl::StatusOr<std::unique_ptr<store::SqliteTaskStore>> task_store =
      store::SqliteTaskStore::Open((std::filesystem::path(o.data_dir) / "tasks.db").string());
  if (!task_store.ok()) return task_store.status();
  p.task_store = *std::move(task_store);
  absl::StatusOr<std::unique_ptr<store::DirImageStore>> image_store =
      store::DirImageStore::Open((std::filesystem::path(o.data_dir) / "images").string());
  if (!image_store.ok()) return image_store.status();
  p.image_store = *std::move(image_store);

  p.executor = std::make_unique<ThreadPool>(o.worker_threads);
  p.http = http::CurlHttpClient::Create(http::CurlHttpClient::Options{});
  dashscope::DashScopeClient::Options client_options;
  client_options.base_url = p.base_url;
  client_options.api_key = o.api_key;
  client_options.download_host_suffixes = o.download_host_suffixes;
  client_options.allow_loopback_downloads = o.allow_loopback_downloads;
  p.upstream = std::make_unique<dashscope::DashScopeClient>(*p.http, client_options);

  o.tasks.region = o.region;
  p.manager = std::make_unique<tasks::TaskManager>(
      o.tasks, dashscope::ModelCatalog::Default(), *p.task_store, *p.image_store, *p.upstream,
      *p.executor, *RealClock::Get());
  if (absl::Status s = p.manager->Start(); !s.ok()) return s;

  p.health = std::make_unique<api::HealthServiceImpl>();
  p.images = std::make_unique<api::ImageServiceImpl>(dashscope::ModelCatalog::Default(),
                                                     *p.manager, *p.executor,
                                                     o.heartbeat_interval);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, grpc::InsecureServerCredentials(), &p.port);
  builder.RegisterService(p.images.get());
  builder.RegisterService(p.health.get());
  p.server = builder.BuildAndStart();
  if (p.server == nullptr || p.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.listen));
  }
  p.health->SetAll(grpc::health::v1::HealthCheckResponse::SERVING);
  spdlog::info("qwen-image-gateway listening on port {} (region {}, store {})", p.port, o.region,
               o.data_dir);
  return std::unique_ptr<Gateway>(new Gateway(std::move(parts)));
}

Gateway::Gateway(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Gateway::~Gateway() { Shutdown(absl::ZeroDuration()); }

int Gateway::port() const { return parts_->port; }

const std::string& Gateway::upstream_base_url() const { return parts_->base_url; }

void Gateway::Shutdown(absl::Duration grace) {
  Parts& p = *parts_;
  {
    absl::MutexLock lock(&p.mu);
    if (p.shut_down) return;
    p.shut_down = true;
  }
  spdlog::info("draining: NOT_SERVING, streams told to reconnect, {} grace",
               absl::FormatDuration(grace));
  p.health->SetAll(grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  p.manager->Shutdown();
  p.images->Drain();
  p.health->EndWatches();
  p.server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  p.server->Wait();
  p.done.Notify();
  spdlog::info("drained");
}

void Gateway::Wait() { parts_->done.WaitForNotification(); }

}  // namespace qwenimage::server
