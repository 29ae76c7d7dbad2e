// TaskMetrics: the task layer's lifecycle hooks recorded as Prometheus series, and the queue and
// running gauges read from the TaskManager at scrape time.
#ifndef QWENIMAGE_SERVICE_METRICS_TASK_METRICS_H_
#define QWENIMAGE_SERVICE_METRICS_TASK_METRICS_H_

#include <functional>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "service/metrics/metrics.h"
#include "service/tasks/task_observer.h"

namespace qwenimage::metrics {

class TaskMetrics final : public tasks::TaskObserver {
 public:
  // `on_credentials` (optional) also hears of credentials outages: the server's readiness.
  // `tenant_labels`: quota rejections carry a tenant label — only when tenants come from a
  // configured file (--auth=tokens), which bounds them; self-asserted tenants would not be.
  explicit TaskMetrics(Metrics& metrics, std::function<void(bool)> on_credentials = nullptr,
                       bool tenant_labels = false)
      : metrics_(metrics),
        on_credentials_(std::move(on_credentials)),
        tenant_labels_(tenant_labels) {}

  void OnTaskCreated(const v1::Task& task) override;
  void OnTaskFinished(const v1::Task& task) override;
  void OnUpstreamRun(const std::string& model, absl::Duration run) override;
  void OnImagesStored(const std::string& model, absl::Duration download) override;
  void OnSubmitRetry(const std::string& model, const std::string& reason) override;
  void OnStoreWriteFailed() override;
  void OnTasksExpired(int count) override;
  void OnImagesExpired(int count) override;
  void OnCredentialsRefused(bool refused) override;
  void OnQuotaRejected(const std::string& tenant, tasks::QuotaKind quota) override;

 private:
  Metrics& metrics_;
  const std::function<void(bool)> on_credentials_;
  const bool tenant_labels_;
};

// "SUCCEEDED" for TASK_STATE_SUCCEEDED: the label value of a task state.
std::string StateLabel(v1::TaskState state);

// qwenimage_tasks_queued and qwenimage_tasks_running, one series per model, computed when
// scraped so they are never stale.
class QueueGauges final : public prometheus::Collectable {
 public:
  struct Counts {
    int queued = 0;
    int running = 0;
  };
  // `counts` is called per model at each scrape, from the metrics server's thread.
  QueueGauges(std::vector<std::string> models, std::function<Counts(const std::string&)> counts)
      : models_(std::move(models)), counts_(std::move(counts)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::vector<std::string> models_;
  const std::function<Counts(const std::string&)> counts_;
};

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_TASK_METRICS_H_
