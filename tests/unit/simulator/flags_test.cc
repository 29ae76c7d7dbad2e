// dashscope-sim's flags → SimulatorOptions.
#include "service/simulator/flags.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, limits);
ABSL_DECLARE_FLAG(std::string, task_duration);
ABSL_DECLARE_FLAG(std::string, model_running_limit);
ABSL_DECLARE_FLAG(std::string, faults);
ABSL_DECLARE_FLAG(std::vector<std::string>, api_keys);

namespace qwenimage::simulator {
namespace {

TEST(OptionsFromFlagsTest, RealisticDefaults) {
  absl::StatusOr<SimulatorOptions> o = OptionsFromFlags();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->limits);
  EXPECT_EQ(o->task_duration.min, absl::Seconds(15));
  EXPECT_EQ(o->task_duration.max, absl::Seconds(30));
  EXPECT_EQ(o->submit_rate.at("qwen-image-plus"), 2);
  EXPECT_EQ(o->running_limit, 2);
  EXPECT_EQ(o->task_api_qps, 20);
  EXPECT_EQ(o->image_ttl, absl::Hours(24));
}

TEST(OptionsFromFlagsTest, ParsesKnobsAndRejectsBadValues) {
  absl::FlagSaver restore_flags_on_exit;
  absl::SetFlag(&FLAGS_limits, "on");
  absl::SetFlag(&FLAGS_task_duration, "2s..8s");
  absl::SetFlag(&FLAGS_model_running_limit, "qwen-image-max=1");
  absl::SetFlag(&FLAGS_faults, "generation:500=0.5");
  absl::SetFlag(&FLAGS_api_keys, std::vector<std::string>{"sk-a", "sk-b@beijing"});
  absl::StatusOr<SimulatorOptions> o = OptionsFromFlags();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->limits);
  EXPECT_EQ(o->task_duration.max, absl::Seconds(8));
  EXPECT_EQ(o->model_running_limit.at("qwen-image-max"), 1);
  EXPECT_DOUBLE_EQ(o->faults.at("generation").internal_error, 0.5);
  EXPECT_EQ(o->api_keys.size(), 2u);

  absl::SetFlag(&FLAGS_limits, "maybe");
  EXPECT_FALSE(OptionsFromFlags().ok());
  absl::SetFlag(&FLAGS_limits, "off");
  absl::SetFlag(&FLAGS_model_running_limit, "qwen-image-max=-1");
  EXPECT_FALSE(OptionsFromFlags().ok());
}

}  // namespace
}  // namespace qwenimage::simulator
