#include "service/metrics/metered_upstream.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/dashscope/errors.h"

namespace qwenimage::metrics {
namespace {

constexpr int kTooManyRequests = 429;

bool SpendsQueryBudget(absl::string_view endpoint) {
  return endpoint == "get_task" || endpoint == "list_tasks" || endpoint == "cancel_task";
}

}  // namespace

template <typename T>
dashscope::UpstreamCallback<T> MeteredUpstream::Wrap(const char* endpoint,
                                                     dashscope::UpstreamCallback<T> done) {
  if (SpendsQueryBudget(endpoint)) metrics_.upstream_task_queries.Add({}).Increment();
  return [this, endpoint, start = absl::Now(),
          done = std::move(done)](absl::StatusOr<T> result) mutable {
    Record(endpoint, result.status(), absl::Now() - start);
    done(std::move(result));
  };
}

void MeteredUpstream::Record(const char* endpoint, const absl::Status& status,
                             absl::Duration latency) {
  std::string http_status = "2xx";
  std::string code;
  if (!status.ok()) {
    std::optional<dashscope::UpstreamError> error = dashscope::GetUpstreamError(status);
    if (!error.has_value()) {
      http_status = "error";
      code = absl::StatusCodeToString(status.code());
    } else {
      http_status = error->http_status == 0 ? "transport" : absl::StrCat(error->http_status);
      code = error->code;
      if (error->http_status == kTooManyRequests) {
        metrics_.upstream_throttled.Add({{"code", code}}).Increment();
      }
    }
  }
  metrics_.upstream_requests.Add({{"endpoint", endpoint}, {"status", http_status}, {"code", code}})
      .Increment();
  metrics_.upstream_request_seconds.Add({{"endpoint", endpoint}}, Metrics::FastBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

void MeteredUpstream::Generate(const dashscope::GenerationParams& params,
                               dashscope::UpstreamCallback<dashscope::UpstreamTask> done) {
  inner_.Generate(params, Wrap("generate", std::move(done)));
}

void MeteredUpstream::CreateTask(const dashscope::GenerationParams& params,
                                 dashscope::UpstreamCallback<dashscope::CreatedTask> done) {
  inner_.CreateTask(params, Wrap("create_task", std::move(done)));
}

void MeteredUpstream::GetTask(const std::string& task_id,
                              dashscope::UpstreamCallback<dashscope::UpstreamTask> done) {
  inner_.GetTask(task_id, Wrap("get_task", std::move(done)));
}

void MeteredUpstream::ListTasks(const dashscope::TaskListQuery& query,
                                dashscope::UpstreamCallback<dashscope::TaskListPage> done) {
  inner_.ListTasks(query, Wrap("list_tasks", std::move(done)));
}

void MeteredUpstream::CancelTask(const std::string& task_id,
                                 dashscope::UpstreamCallback<std::string> done) {
  inner_.CancelTask(task_id, Wrap("cancel_task", std::move(done)));
}

void MeteredUpstream::Download(const std::string& url,
                               dashscope::UpstreamCallback<std::string> done) {
  inner_.Download(url, Wrap("download", std::move(done)));
}

}  // namespace qwenimage::metrics
