// MeteredUpstream: an Upstream decorator that counts and times every DashScope request by
// endpoint and outcome, counts 429s by code and the task-API calls spent from the query budget.
#ifndef QWENIMAGE_SERVICE_METRICS_METERED_UPSTREAM_H_
#define QWENIMAGE_SERVICE_METRICS_METERED_UPSTREAM_H_

#include <string>

#include "absl/status/status.h"
#include "service/dashscope/upstream.h"
#include "service/metrics/metrics.h"

namespace qwenimage::metrics {

class MeteredUpstream final : public dashscope::Upstream {
 public:
  // `inner` and `metrics` must outlive this object.
  MeteredUpstream(dashscope::Upstream& inner, Metrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  void Generate(const dashscope::GenerationParams& params,
                dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override;
  void CreateTask(const dashscope::GenerationParams& params,
                  dashscope::UpstreamCallback<dashscope::CreatedTask> done) override;
  void GetTask(const std::string& task_id,
               dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override;
  void ListTasks(const dashscope::TaskListQuery& query,
                 dashscope::UpstreamCallback<dashscope::TaskListPage> done) override;
  void CancelTask(const std::string& task_id,
                  dashscope::UpstreamCallback<std::string> done) override;
  void Download(const std::string& url, dashscope::UpstreamCallback<std::string> done) override;

  // Records one finished request (public for the tests).
  void Record(const char* endpoint, const absl::Status& status, absl::Duration latency);

 private:
  template <typename T>
  dashscope::UpstreamCallback<T> Wrap(const char* endpoint, dashscope::UpstreamCallback<T> done);

  dashscope::Upstream& inner_;
  Metrics& metrics_;
};

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_METERED_UPSTREAM_H_
