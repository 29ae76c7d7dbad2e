// Parsers of the simulator's knobs and prompt markers.
#include "service/simulator/options.h"

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
  FaultPlan none = PlanFromPrompt("a plain [prompt] with [sim: nothing");
  EXPECT_FALSE(none.error.has_value());
  EXPECT_EQ(none.delivery, Delivery::kNormal);
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

}  // namespace
}  // namespace qwenimage::simulator
