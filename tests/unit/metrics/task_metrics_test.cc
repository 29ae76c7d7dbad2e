#include "service/metrics/task_metrics.h"

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_text.h"

namespace qwenimage::metrics {
namespace {

using ::qwenimage::testing::MetricsText;
using ::qwenimage::testing::SampleValue;

using google::protobuf::util::TimeUtil;

v1::Task FinishedTask() {
  v1::Task task;
  task.mutable_spec()->set_model("qwen-image-plus");
  task.set_state(v1::TASK_STATE_SUCCEEDED);
  *task.mutable_create_time() = TimeUtil::SecondsToTimestamp(100);
  *task.mutable_submit_time() = TimeUtil::SecondsToTimestamp(102);
  *task.mutable_end_time() = TimeUtil::SecondsToTimestamp(110);
  return task;
}

TEST(TaskMetricsTest, QuotaRejectionsCarryATenantLabelOnlyWhenAllowed) {
  Metrics anonymous;
  TaskMetrics without(anonymous);
  without.OnQuotaRejected("team-a", tasks::QuotaKind::kCreatesPerMinute);
  without.OnQuotaRejected("team-b", tasks::QuotaKind::kCreatesPerMinute);
  std::string text = MetricsText(*anonymous.registry());
  EXPECT_EQ(SampleValue(text, R"(qwenimage_quota_rejections_total{quota="creates_per_minute"})"),
            2)
      << text;
  EXPECT_EQ(text.find("team-a"), std::string::npos);

  Metrics labelled;
  TaskMetrics with(labelled, nullptr, /*tenant_labels=*/true);
  with.OnQuotaRejected("team-a", tasks::QuotaKind::kImagesPerDay);
  text = MetricsText(*labelled.registry());
  EXPECT_EQ(SampleValue(text,
                        R"(qwenimage_quota_rejections_total{quota="images_per_day",tenant="team-a"})"),
            1)
      << text;
}

TEST(TaskMetricsTest, CountsCreatedAndFinishedByModelAndState) {
  Metrics metrics;
  TaskMetrics observer(metrics);
  v1::Task task = FinishedTask();
  observer.OnTaskCreated(task);
  observer.OnTaskFinished(task);
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(SampleValue(text, R"(qwenimage_tasks_created_total{model="qwen-image-plus"})"), 1);
  EXPECT_EQ(
      SampleValue(text,
                  R"(qwenimage_tasks_finished_total{model="qwen-image-plus",state="SUCCEEDED"})"),
      1);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_task_queue_wait_seconds_sum{model="qwen-image-plus"})"),
            2);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_task_duration_seconds_sum{model="qwen-image-plus",state="SUCCEEDED"})"),
      10);
}

TEST(TaskMetricsTest, RecordsUpstreamRunsAndRetries) {
  Metrics metrics;
  TaskMetrics observer(metrics);
  observer.OnUpstreamRun("qwen-image", absl::Milliseconds(1500));
  observer.OnSubmitRetry("qwen-image", "Throttling.RateQuota");
  observer.OnImagesStored("qwen-image", absl::Milliseconds(250));
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(SampleValue(text, R"(qwenimage_task_upstream_run_seconds_sum{model="qwen-image"})"),
            1.5);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_task_download_seconds_sum{model="qwen-image"})"),
            0.25);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_upstream_submit_retries_total{code="Throttling.RateQuota",model="qwen-image"})"),
      1);
}

TEST(TaskMetricsTest, StateLabelDropsThePrefix) {
  EXPECT_EQ(StateLabel(v1::TASK_STATE_CANCELLED), "CANCELLED");
}

TEST(QueueGaugesTest, ReadsCountsAtCollectTime) {
  int queued = 3;
  QueueGauges gauges({"qwen-image", "qwen-image-max"}, [&](const std::string& model) {
    return QueueGauges::Counts{model == "qwen-image" ? queued : 0, 1};
  });
  std::string text = MetricsText(gauges);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_tasks_queued{model="qwen-image"})"), 3);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_tasks_running{model="qwen-image-max"})"), 1);
  queued = 5;
  EXPECT_EQ(SampleValue(MetricsText(gauges), R"(qwenimage_tasks_queued{model="qwen-image"})"), 5);
}

TEST(MetricsTest, ExposesBuildInfo) {
  Metrics metrics(BuildInfo{"1.2.3", "abc1234"});
  EXPECT_EQ(SampleValue(MetricsText(*metrics.registry()),
                        R"(qwenimage_build_info{git_sha="abc1234",version="1.2.3"})"),
            1);
  EXPECT_FALSE(CurrentBuildInfo().git_sha.empty());
}

}  // namespace
}  // namespace qwenimage::metrics
