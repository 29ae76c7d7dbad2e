// MetricsServer: serves the registry (and extra collectables) as Prometheus text on
// http://<listen>/metrics, on prometheus-cpp's own civetweb threads.
#ifndef QWENIMAGE_SERVICE_METRICS_METRICS_SERVER_H_
#define QWENIMAGE_SERVICE_METRICS_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "service/metrics/metrics.h"

namespace qwenimage::metrics {

class MetricsServer {
 public:
  // `listen` is host:port (port 0 picks one). The collectables are held weakly: unregistering
  // is dropping them.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, const Metrics& metrics,
      const std::vector<std::shared_ptr<prometheus::Collectable>>& extra = {});

  // The bound port.
  int port() const { return port_; }

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, int port)
      : exposer_(std::move(exposer)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_METRICS_SERVER_H_
