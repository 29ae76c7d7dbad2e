#include "service/metrics/metrics_server.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qwenimage::metrics {

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, const Metrics& metrics,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& extra) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One worker thread: a scrape is cheap and Prometheus scrapes one at a time.
    exposer = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen, ": ", e.what()));
  }
  exposer->RegisterCollectable(metrics.registry());
  for (const auto& c : extra) exposer->RegisterCollectable(c);
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer), ports.front()));
}

}  // namespace qwenimage::metrics
