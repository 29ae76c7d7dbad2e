#include "service/metrics/metered_upstream.h"

#include "gtest/gtest.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "tests/testing/metrics_text.h"

namespace qwenimage::metrics {
namespace {

using ::qwenimage::testing::MetricsText;
using ::qwenimage::testing::SampleValue;

dashscope::UpstreamError Error(int http_status, const std::string& code) {
  dashscope::UpstreamError e;
  e.http_status = http_status;
  e.code = code;
  dashscope::Classify(dashscope::CallKind::kFree,
                      {dashscope::Answer::Shape::kDashScope, http_status, code}, e);
  return e;
}

class NullUpstream final : public dashscope::Upstream {
 public:
  void Generate(const dashscope::GenerationParams&,
                dashscope::UpstreamCallback<dashscope::UpstreamTask>) override {}
  void CreateTask(const dashscope::GenerationParams&,
                  dashscope::UpstreamCallback<dashscope::CreatedTask>) override {}
  void GetTask(const std::string&,
               dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override {
    get_done = std::move(done);
  }
  void ListTasks(const dashscope::TaskListQuery&,
                 dashscope::UpstreamCallback<dashscope::TaskListPage>) override {}
  void CancelTask(const std::string&, dashscope::UpstreamCallback<std::string>) override {}
  void Download(const std::string&, dashscope::UpstreamCallback<std::string>) override {}

  dashscope::UpstreamCallback<dashscope::UpstreamTask> get_done;
};

TEST(MeteredUpstreamTest, CountsOutcomesByEndpointStatusAndCode) {
  Metrics metrics;
  NullUpstream inner;
  MeteredUpstream upstream(inner, metrics);
  upstream.Record("create_task", absl::OkStatus(), absl::Milliseconds(20));
  upstream.Record("create_task", dashscope::UpstreamErrorStatus(Error(429, "Throttling.RateQuota")),
                  absl::Milliseconds(5));
  upstream.Record("generate", absl::UnavailableError("connection refused"), absl::Seconds(1));
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_upstream_requests_total{code="",endpoint="create_task",status="2xx"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_upstream_requests_total{code="Throttling.RateQuota",endpoint="create_task",status="429"})"),
      1);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_upstream_requests_total{code="UNAVAILABLE",endpoint="generate",status="error"})"),
      1);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_upstream_throttled_total{code="Throttling.RateQuota"})"),
            1);
  EXPECT_EQ(
      SampleValue(text, R"(qwenimage_upstream_request_seconds_count{endpoint="create_task"})"), 2);
}

TEST(MeteredUpstreamTest, TaskQueriesSpendTheBudgetAndAreTimedOnCompletion) {
  Metrics metrics;
  NullUpstream inner;
  MeteredUpstream upstream(inner, metrics);
  bool called = false;
  upstream.GetTask("t1", [&](absl::StatusOr<dashscope::UpstreamTask>) { called = true; });
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(SampleValue(text, "qwenimage_upstream_task_queries_total"), 1);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_upstream_request_seconds_count{endpoint="get_task"})"),
            std::nullopt);
  inner.get_done(dashscope::UpstreamTask{});
  EXPECT_TRUE(called);
  EXPECT_EQ(SampleValue(MetricsText(*metrics.registry()),
                        R"(qwenimage_upstream_request_seconds_count{endpoint="get_task"})"),
            1);
}

}  // namespace
}  // namespace qwenimage::metrics
