#include "service/dashscope/upstream_time.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// Recorded Beijing traffic: submit_time 17:38:24.817 alongside HTTP Date 09:38:24 GMT.
TEST(UpstreamTimeTest, TaskTimesAreUtcPlus8) {
  EXPECT_EQ(ParseTaskTime("2026-06-11 17:38:24.817"),
            Utc(2026, 6, 11, 9, 38, 24) + absl::Milliseconds(817));
  EXPECT_EQ(ParseTaskTime("2026-06-11 17:38:24"), Utc(2026, 6, 11, 9, 38, 24));
}

TEST(UpstreamTimeTest, MalformedTaskTimes) {
  for (const char* bad : {"", "yesterday", "2026-06-11T17:38:24Z", "2026-06-11", "1709260684485"}) {
    EXPECT_EQ(ParseTaskTime(bad), std::nullopt) << bad;
  }
}

TEST(UpstreamTimeTest, ListQueryTime) {
  EXPECT_EQ(FormatListQueryTime(Utc(2026, 6, 11, 20, 0, 5)), "20260612040005");
}

}  // namespace
}  // namespace qwenimage::dashscope
