// Gateway: the composition root — builds every layer from GatewayOptions, runs the gRPC server,
// and tears it all down in dependency order. main.cc only maps flags onto the options.
#ifndef QWENIMAGE_SERVICE_SERVER_GATEWAY_H_
#define QWENIMAGE_SERVICE_SERVER_GATEWAY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/auth/authenticator.h"
#include "service/server/server_limits.h"
#include "service/server/transport.h"
#include "service/simulator/simulator.h"
#include "service/store/s3_image_store.h"
#include "service/tasks/replica_role.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::server {

// The exit status of a replica that lost the account lease (replica_role.h): it stops at once,
// fail-stop, and its restart rejoins as a standby.
inline constexpr int kExitLeaseLost = 75;

struct GatewayOptions {
  std::string listen = "0.0.0.0:50051";
  // Prometheus /metrics endpoint (host:port, port 0 picks one); "" serves none.
  std::string metrics_listen;
  std::string data_dir = "./data";
  // Task store: "sqlite" (tasks.db under data_dir) or "postgres".
  std::string store = "sqlite";
  // With "postgres": a file holding a libpq connection string (a mounted Secret; "" = libpq's
  // environment, PGHOST, PGPASSFILE, ...), the pool size and every statement's timeout.
  std::string postgres_dsn_file;
  int postgres_pool_size = 8;
  absl::Duration postgres_statement_timeout = absl::Seconds(5);
  // With "postgres": replicas on the database share the account lease (its holder is set per
  // process by Start).
  tasks::ReplicaRoleOptions replica;
  // What a replica does when it lost the lease; unset = log and exit with kExitLeaseLost.
  std::function<void(const absl::Status&)> on_lease_lost;
  // Image store: "dir" (images/ under data_dir) or "s3" (an S3-compatible bucket: `s3` without
  // its credentials, which come from s3_credentials_file).
  std::string image_store = "dir";
  store::S3ImageStore::Options s3;
  std::string s3_credentials_file;
  std::string region = "singapore";
  std::string dashscope_base_url;  // "" = the region's public endpoint
  std::string api_key;             // DASHSCOPE_API_KEY; required unless simulate or a key file
  // A file holding the key (a mounted Secret): re-read when it changes and on ReloadApiKey().
  std::string api_key_file;
  absl::Duration api_key_poll_interval = absl::Seconds(2);
  bool simulate = false;
  // Who a caller is: kTokens = a bearer token or mTLS identity from `tokens_file` (re-read when
  // it changes and on ReloadTokens()); kNone = the self-asserted x-qwenimage-tenant header.
  // Unset: kNone with simulate, kTokens otherwise. kTokens without tokens_file fails Start().
  std::optional<auth::AuthMode> auth_mode;
  std::string tokens_file;
  absl::Duration tokens_poll_interval = absl::Seconds(2);
  // The gRPC listener: TLS/mTLS from certificate files, or plaintext with transport.insecure or
  // simulate (else Start() refuses).
  TransportOptions transport;
  simulator::SimulatorOptions simulator;
  // Image downloads: https from hosts ending in one of these suffixes (loopback is added with
  // --simulate).
  std::vector<std::string> download_host_suffixes = {".aliyuncs.com"};
  bool allow_loopback_downloads = false;
  absl::Duration heartbeat_interval = absl::Seconds(15);
  // gRPC edge bounds: streams per connection, request size, keepalive, memory.
  ServerLimits limits;
  // Open WatchTask/GenerateImagesStream streams per tenant (RESOURCE_EXHAUSTED beyond); 0 = no cap.
  int max_watch_streams_per_tenant = 100;
  int worker_threads = 4;
  // Readiness waits for upstream to answer; until then it asks again this often.
  absl::Duration upstream_probe_interval = absl::Seconds(2);
  tasks::TaskManagerOptions tasks;
  // The model catalog: a file in the format of service/dashscope/models.json, read once by
  // Start() (a bad file fails it, naming the entry and field); "" = the built-in catalog.
  std::string models_file;
  // Seed tasks.scheduler.model_limits with the catalog's default account limits, for every
  // model that has them and no entry there yet (an entry, i.e. --model_limits, wins; models
  // without catalog limits keep tasks.scheduler.default_limits). main.cc sets it unless
  // --max_running or --submits_per_second is given, which then apply to every model as before.
  bool seed_model_limits_from_catalog = false;
};

struct GatewayParts;  // what Start builds (gateway.cc)

class Gateway {
 public:
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();

  // The bound gRPC port (useful with listen port 0).
  int port() const;
  // The bound /metrics port; 0 without metrics_listen.
  int metrics_port() const;
  // The upstream base URL in use (the embedded simulator's with --simulate).
  const std::string& upstream_base_url() const;

  // Drains: health NOT_SERVING, nothing new admitted or polled, streams told to reconnect; billed
  // work in flight (creates, sync calls, image downloads) gets up to `grace` to finish and be
  // stored, then the server stops. Idempotent.
  void Shutdown(absl::Duration grace);
  // Re-reads the API key file now (SIGHUP); OK without a key file.
  absl::Status ReloadApiKey();
  // Re-reads the tokens file now (SIGHUP) and logs the outcome; OK with --auth=none. A bad file
  // keeps the tokens in use and is the returned error.
  absl::Status ReloadTokens();
  // Blocks until Shutdown() has completed.
  void Wait();

 private:
  explicit Gateway(std::unique_ptr<GatewayParts> parts);
  std::unique_ptr<GatewayParts> parts_;
};

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_GATEWAY_H_
