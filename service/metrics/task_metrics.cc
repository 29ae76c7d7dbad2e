#include "service/metrics/task_metrics.h"

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/util/time_util.h"

namespace qwenimage::metrics {
namespace {

using google::protobuf::util::TimeUtil;

double Seconds(const google::protobuf::Timestamp& from, const google::protobuf::Timestamp& to) {
  return static_cast<double>(TimeUtil::DurationToMilliseconds(to - from)) / 1000.0;
}

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddSample(prometheus::MetricFamily& family, const std::string& model, int value) {
  prometheus::ClientMetric m;
  m.label.push_back({"model", model});
  m.gauge.value = value;
  family.metric.push_back(std::move(m));
}

}  // namespace

std::string StateLabel(v1::TaskState state) {
  std::string name = v1::TaskState_Name(state);
  constexpr absl::string_view kPrefix = "TASK_STATE_";
  return absl::StartsWith(name, kPrefix) ? name.substr(kPrefix.size()) : name;
}

void TaskMetrics::OnTaskCreated(const v1::Task& task) {
  metrics_.tasks_created.Add({{"model", task.spec().model()}}).Increment();
}

void TaskMetrics::OnTaskFinished(const v1::Task& task) {
  const std::string& model = task.spec().model();
  const std::string state = StateLabel(task.state());
  metrics_.tasks_finished.Add({{"model", model}, {"state", state}}).Increment();
  if (task.has_submit_time()) {
    metrics_.task_queue_wait_seconds.Add({{"model", model}}, Metrics::SlowBuckets())
        .Observe(Seconds(task.create_time(), task.submit_time()));
  }
  if (task.has_end_time()) {
    metrics_.task_duration_seconds.Add({{"model", model}, {"state", state}}, Metrics::SlowBuckets())
        .Observe(Seconds(task.create_time(), task.end_time()));
  }
}

void TaskMetrics::OnUpstreamRun(const std::string& model, absl::Duration run) {
  metrics_.task_upstream_run_seconds.Add({{"model", model}}, Metrics::SlowBuckets())
      .Observe(absl::ToDoubleSeconds(run));
}

void TaskMetrics::OnImagesStored(const std::string& model, absl::Duration download) {
  metrics_.task_download_seconds.Add({{"model", model}}, Metrics::SlowBuckets())
      .Observe(absl::ToDoubleSeconds(download));
}

void TaskMetrics::OnSubmitRetry(const std::string& model, const std::string& reason) {
  metrics_.submit_retries.Add({{"model", model}, {"code", reason}}).Increment();
}

void TaskMetrics::OnStoreWriteFailed() { metrics_.store_write_failures.Add({}).Increment(); }

void TaskMetrics::OnTasksExpired(int count) {
  metrics_.retention_deleted.Add({{"what", "task"}}).Increment(count);
}

void TaskMetrics::OnImagesExpired(int count) {
  metrics_.retention_deleted.Add({{"what", "images"}}).Increment(count);
}

void TaskMetrics::OnCredentialsRefused(bool refused) {
  metrics_.upstream_credentials_refused.Add({}).Set(refused ? 1 : 0);
  if (on_credentials_) on_credentials_(refused);
}

void TaskMetrics::OnQuotaRejected(const std::string& tenant, tasks::QuotaKind quota) {
  std::map<std::string, std::string> labels = {{"quota", std::string(tasks::QuotaName(quota))}};
  if (tenant_labels_) labels["tenant"] = tenant;
  metrics_.quota_rejections.Add(labels).Increment();
}

std::vector<prometheus::MetricFamily> QueueGauges::Collect() const {
  prometheus::MetricFamily queued = GaugeFamily(
      "qwenimage_tasks_queued", "Tasks waiting in the gateway for upstream capacity, by model");
  prometheus::MetricFamily running =
      GaugeFamily("qwenimage_tasks_running", "Tasks holding an upstream slot, by model");
  for (const std::string& model : models_) {
    Counts c = counts_(model);
    AddSample(queued, model, c.queued);
    AddSample(running, model, c.running);
  }
  return {std::move(queued), std::move(running)};
}

}  // namespace qwenimage::metrics
