// Parsers of the simulator's knobs and prompt markers.
#include "service/simulator/options.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "service/simulator/faults.h"

namespace qwenimage::simulator {
namespace {

TEST(ParseDurationRangeTest, FixedAndRange) {
  absl::StatusOr<DurationRange> fixed = ParseDurationRange("3s");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->min, absl::Seconds(3));
  EXPECT_EQ(fixed->max, absl::Seconds(3));
  absl::StatusOr<DurationRange> range = ParseDurationRange("2s..8s");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->min, absl::Seconds(2));
  EXPECT_EQ(range->max, absl::Seconds(8));
  EXPECT_FALSE(ParseDurationRange("8s..2s").ok());
  EXPECT_FALSE(ParseDurationRange("soon").ok());
  EXPECT_FALSE(ParseDurationRange("1s..2s..3s").ok());
}

TEST(ParseFaultsTest, EndpointsAndKinds) {
  auto faults = ParseFaults("generation:500=0.1,slow=0.5,slow_delay=2s; *:reset=0.01");
  ASSERT_TRUE(faults.ok()) << faults.status();
  EXPECT_DOUBLE_EQ(faults->at("generation").internal_error, 0.1);
  EXPECT_DOUBLE_EQ(faults->at("generation").slow, 0.5);
  EXPECT_EQ(faults->at("generation").slow_delay, absl::Seconds(2));
  EXPECT_DOUBLE_EQ(faults->at("*").reset, 0.01);
  EXPECT_FALSE(ParseFaults("generation:teapot=0.1").ok());
  EXPECT_FALSE(ParseFaults("generation:500=2").ok());
  EXPECT_FALSE(ParseFaults("500=0.1").ok());
  EXPECT_TRUE(ParseFaults("").ok());
}

TEST(ParseFaultsTest, AfterDropAndRetryAfter) {
  auto faults = ParseFaults(
      "image-synthesis:502_after=0.1,drop=0.05,429=0.2,retry_after=30; generation:504_after=0.2,"
      "408_after=0.1");
  ASSERT_TRUE(faults.ok()) << faults.status();
  const FaultRates& create = faults->at("image-synthesis");
  EXPECT_EQ(create.after, (std::map<int, double>{{502, 0.1}}));
  EXPECT_DOUBLE_EQ(create.drop, 0.05);
  EXPECT_EQ(create.retry_after, 30);
  EXPECT_EQ(faults->at("generation").after, (std::map<int, double>{{408, 0.1}, {504, 0.2}}));
  EXPECT_FALSE(faults->at("generation").retry_after.has_value());
  EXPECT_FALSE(ParseFaults("generation:404_after=0.1").ok());  // a load balancer's 5xx/408 only
  EXPECT_FALSE(ParseFaults("generation:bad_after=0.1").ok());
  EXPECT_FALSE(ParseFaults("generation:502_after=1.5").ok());
  EXPECT_FALSE(ParseFaults("generation:drop=-0.1").ok());
  EXPECT_FALSE(ParseFaults("task_get:retry_after=-1").ok());
  EXPECT_FALSE(ParseFaults("task_get:retry_after=1.5").ok());
}

TEST(ParseOverLimitTest, Modes) {
  EXPECT_EQ(*ParseOverLimit("queue"), OverLimit::kQueue);
  EXPECT_EQ(*ParseOverLimit("reject"), OverLimit::kReject);
  EXPECT_FALSE(ParseOverLimit("drop").ok());
}

TEST(PlanFromPromptTest, Markers) {
  FaultPlan p = PlanFromPrompt("a cat [sim:fail=InternalError] [sim:slow=3s] [sim:partial=2]");
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->http_status, 500);
  EXPECT_EQ(p.error->code, "InternalError");
  EXPECT_EQ(p.delay, absl::Seconds(3));
  EXPECT_EQ(p.partial, 2);

  EXPECT_EQ(PlanFromPrompt("[sim:moderation]").error->code, "DataInspectionFailed");
  EXPECT_EQ(PlanFromPrompt("[sim:status=503]").error->http_status, 503);
  EXPECT_EQ(PlanFromPrompt("[sim:status=429]").error->code, "Throttling.RateQuota");
  EXPECT_EQ(PlanFromPrompt("[sim:task_fail=DataInspectionFailed]").task_fail_code,
            "DataInspectionFailed");
  EXPECT_EQ(PlanFromPrompt("[sim:malformed]").delivery, Delivery::kMalformed);
  EXPECT_EQ(PlanFromPrompt("[sim:reset]").delivery, Delivery::kReset);
  EXPECT_EQ(PlanFromPrompt("[sim:hang]").delivery, Delivery::kHang);
  EXPECT_EQ(PlanFromPrompt("[sim:drop]").delivery, Delivery::kDrop);
  EXPECT_EQ(PlanFromPrompt("[sim:after=502]").after_status, 502);
  EXPECT_EQ(PlanFromPrompt("[sim:after=408]").after_status, 408);
  EXPECT_EQ(PlanFromPrompt("[sim:after=404]").after_status, 0);  // not a load balancer's status
  EXPECT_FALSE(PlanFromPrompt("[sim:after=502]").error.has_value());
  EXPECT_EQ(PlanFromPrompt("[sim:status=429] [sim:retry_after=86400]").retry_after, 86400);
  EXPECT_FALSE(PlanFromPrompt("[sim:retry_after=soon]").retry_after.has_value());
  FaultPlan none = PlanFromPrompt("a plain [prompt] with [sim: nothing");
  EXPECT_FALSE(none.error.has_value());
  EXPECT_EQ(none.delivery, Delivery::kNormal);
  EXPECT_EQ(none.after_status, 0);
  EXPECT_FALSE(none.retry_after.has_value());
}

TEST(PlanFromRatesTest, CumulativeDrawAndCreateOnlyKinds) {
  FaultRates r;
  r.internal_error = 0.25;
  r.unavailable = 0.25;
  r.moderation = 0.25;
  EXPECT_EQ(PlanFromRates(r, 0.1, true).error->code, "InternalError");
  EXPECT_EQ(PlanFromRates(r, 0.3, true).error->code, "ModelUnavailable");
  EXPECT_EQ(PlanFromRates(r, 0.6, true).error->code, "DataInspectionFailed");
  EXPECT_FALSE(PlanFromRates(r, 0.6, false).error.has_value());
  EXPECT_FALSE(PlanFromRates(r, 0.9, true).error.has_value());
}

TEST(PlanFromRatesTest, DropAndAfterFollowTheOtherKinds) {
  FaultRates r;
  r.throttle = 0.25;
  r.drop = 0.25;
  r.after = {{502, 0.25}, {504, 0.25}};
  r.retry_after = 60;
  FaultPlan throttled = PlanFromRates(r, 0.1, true);
  EXPECT_EQ(throttled.error->http_status, 429);
  EXPECT_EQ(throttled.retry_after, 60);
  EXPECT_EQ(PlanFromRates(r, 0.3, true).delivery, Delivery::kDrop);
  EXPECT_EQ(PlanFromRates(r, 0.6, true).after_status, 502);
  EXPECT_EQ(PlanFromRates(r, 0.9, false).after_status, 504);
  // The hint belongs to the endpoint: it rides along whatever the draw.
  FaultRates hint_only;
  hint_only.retry_after = 5;
  FaultPlan clean = PlanFromRates(hint_only, 0.5, true);
  EXPECT_FALSE(clean.error.has_value());
  EXPECT_EQ(clean.retry_after, 5);
}

TEST(MergePlansTest, MarkersOverrideAfterAndRetryAfter) {
  FaultPlan drawn;
  drawn.after_status = 502;
  drawn.retry_after = 10;
  FaultPlan marked;
  marked.after_status = 504;
  FaultPlan merged = MergePlans(drawn, marked);
  EXPECT_EQ(merged.after_status, 504);
  EXPECT_EQ(merged.retry_after, 10);
}

TEST(ParseOneShotFaultTest, KindsAndModifiers) {
  absl::StatusOr<OneShotFault> f = ParseOneShotFault(
      {{"endpoint", "task_get"}, {"status", "429"}, {"retry_after", "86400"}, {"count", "3"}});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->endpoint, "task_get");
  EXPECT_EQ(f->count, 3);
  EXPECT_EQ(f->plan.error->code, "Throttling.RateQuota");
  EXPECT_EQ(f->plan.retry_after, 86400);

  f = ParseOneShotFault({{"endpoint", "image-synthesis"}, {"after", "502"}});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->count, 1);
  EXPECT_EQ(f->plan.after_status, 502);
  EXPECT_EQ(ParseOneShotFault({{"endpoint", "generation"}, {"drop", "1"}})->plan.delivery,
            Delivery::kDrop);
  EXPECT_EQ(ParseOneShotFault({{"endpoint", "task_list"}, {"reset", "1"}})->plan.delivery,
            Delivery::kReset);
  EXPECT_EQ(ParseOneShotFault({{"endpoint", "task_cancel"}, {"code", "Throttling.Concurrency"}})
                ->plan.error->http_status,
            429);
}

TEST(ParseOneShotFaultTest, Rejects) {
  using Params = std::map<std::string, std::string>;
  const Params bad[] = {
      {{"status", "429"}},                                     // no endpoint
      {{"endpoint", "*"}, {"status", "429"}},                  // not one endpoint
      {{"endpoint", "task_get"}},                              // no kind
      {{"endpoint", "task_get"}, {"status", "429"}, {"drop", "1"}},  // two kinds
      {{"endpoint", "task_get"}, {"status", "200"}},           // not an error
      {{"endpoint", "generation"}, {"after", "404"}},          // not a load balancer's status
      {{"endpoint", "generation"}, {"drop", "yes"}},
      {{"endpoint", "task_get"}, {"status", "429"}, {"count", "0"}},
      {{"endpoint", "task_get"}, {"status", "429"}, {"retry_after", "-5"}},
      {{"endpoint", "task_get"}, {"status", "429"}, {"colour", "red"}},
  };
  for (const Params& params : bad) {
    EXPECT_FALSE(ParseOneShotFault(params).ok()) << params.begin()->first;
  }
}

TEST(OneShotFaultsTest, ConsumedInOrderPerEndpoint) {
  OneShotFaults faults;
  faults.Add(*ParseOneShotFault({{"endpoint", "task_get"}, {"status", "429"}, {"count", "2"}}));
  faults.Add(*ParseOneShotFault({{"endpoint", "task_get"}, {"status", "503"}}));
  faults.Add(*ParseOneShotFault({{"endpoint", "generation"}, {"drop", "1"}}));
  EXPECT_EQ(faults.Pending(), (std::map<std::string, int64_t>{{"generation", 1}, {"task_get", 3}}));
  EXPECT_EQ(faults.Take("task_get")->error->http_status, 429);
  EXPECT_EQ(faults.Take("task_get")->error->http_status, 429);
  EXPECT_EQ(faults.Take("task_get")->error->http_status, 503);
  EXPECT_FALSE(faults.Take("task_get").has_value());
  EXPECT_FALSE(faults.Take("task_list").has_value());
  faults.Clear();
  EXPECT_FALSE(faults.Take("generation").has_value());
  EXPECT_TRUE(faults.Pending().empty());
}

}  // namespace
}  // namespace qwenimage::simulator
