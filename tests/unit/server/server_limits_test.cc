#include "service/server/server_limits.h"

#include "gtest/gtest.h"

namespace qwenimage::server {
namespace {

TEST(ParseByteSizeTest, UnitsAndPlainBytes) {
  EXPECT_EQ(*ParseByteSize("512MiB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("1GiB"), int64_t{1} << 30);
  EXPECT_EQ(*ParseByteSize("64kib"), 64 * 1024);
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576);
  EXPECT_EQ(*ParseByteSize("10 MB"), 10 * 1000 * 1000);
  EXPECT_EQ(*ParseByteSize("7B"), 7);
}

TEST(ParseByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "MiB", "-1MiB", "1.5GiB", "12TiB", "1 Mi B", "99999999999999999GiB"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
}

TEST(CheckServerLimitsTest, DefaultsAreValidAndBadValuesNameTheirFlag) {
  EXPECT_TRUE(CheckServerLimits(ServerLimits{}).ok());
  ServerLimits l;
  l.max_streams_per_connection = 0;
  EXPECT_NE(CheckServerLimits(l).message().find("--max_streams_per_connection"),
            absl::string_view::npos);
  l = ServerLimits{};
  l.max_receive_message_bytes = 10;
  EXPECT_NE(CheckServerLimits(l).message().find("--max_receive_message_bytes"),
            absl::string_view::npos);
  l = ServerLimits{};
  l.memory_limit_bytes = 1 << 20;
  EXPECT_NE(CheckServerLimits(l).message().find("--grpc_memory_limit"), absl::string_view::npos);
  l = ServerLimits{};
  l.keepalive_time = absl::ZeroDuration();
  EXPECT_FALSE(CheckServerLimits(l).ok());
}

}  // namespace
}  // namespace qwenimage::server
