// Gateway: the composition root — builds every layer from GatewayOptions, runs the gRPC server,
// and tears it all down in dependency order. main.cc only maps flags onto the options.
#ifndef QWENIMAGE_SERVICE_SERVER_GATEWAY_H_
#define QWENIMAGE_SERVICE_SERVER_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/simulator/simulator.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::server {

struct GatewayOptions {
  std::string listen = "0.0.0.0:50051";
  // Prometheus /metrics endpoint (host:port, port 0 picks one); "" serves none.
  std::string metrics_listen;
  std::string data_dir = "./data";
  std::string region = "singapore";
  std::string dashscope_base_url;  // "" = the region's public endpoint
  std::string api_key;             // required unless simulate
  bool simulate = false;
  simulator::SimulatorOptions simulator;
  // Image downloads: https from hosts ending in one of these suffixes (loopback is added with
  // --simulate).
  std::vector<std::string> download_host_suffixes = {".aliyuncs.com"};
  bool allow_loopback_downloads = false;
  absl::Duration heartbeat_interval = absl::Seconds(15);
  int worker_threads = 4;
  // Readiness waits for upstream to answer; until then it asks again this often.
  absl::Duration upstream_probe_interval = absl::Seconds(2);
  tasks::TaskManagerOptions tasks;
};

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

  // Stops taking new work: health NOT_SERVING, streams told to reconnect, calls given `grace`
  // to finish. Task state is already durable. Idempotent.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown() has completed.
  void Wait();

 private:
  struct Parts;
  explicit Gateway(std::unique_ptr<Parts> parts);
  static absl::Status StartMetricsServer(Parts& p);
  // Readiness: ImageService becomes SERVING unless a drain has begun.
  static void MarkReady(Parts& p);
  std::unique_ptr<Parts> parts_;
};

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_GATEWAY_H_
