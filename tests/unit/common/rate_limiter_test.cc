#include "service/common/rate_limiter.h"

#include "gtest/gtest.h"
#include "service/common/backoff.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage {
namespace {

TEST(RateLimiterTest, NeverExceedsTheBudgetInAnyWindow) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, /*per_second=*/20, /*burst=*/20);
  const absl::Time start = clock.Now();
  std::vector<absl::Time> starts;
  for (int i = 0; i < 1000; ++i) starts.push_back(limiter.Reserve());
  // Any one-second window [t, t+1s) holds at most burst + rate calls; after the initial burst,
  // calls are spaced by exactly 1/rate.
  for (size_t i = 0; i + 40 < starts.size(); ++i) {
    EXPECT_GE(starts[i + 40] - starts[i], absl::Seconds(1)) << "at call " << i;
  }
  EXPECT_EQ(starts[0], start);
  EXPECT_EQ(starts[19], start);  // the burst
  EXPECT_EQ(starts[20], start + absl::Milliseconds(50));
}

TEST(RateLimiterTest, RefillsWhileIdle) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 2, 2);
  limiter.Reserve();
  limiter.Reserve();
  EXPECT_GT(limiter.Reserve(), clock.Now());
  clock.Set(clock.Now() + absl::Seconds(10));
  EXPECT_EQ(limiter.Reserve(), clock.Now());
}

TEST(RateLimiterTest, PauseDelaysFutureCalls) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 10, 1);
  limiter.PauseUntil(clock.Now() + absl::Seconds(5));
  EXPECT_GE(limiter.Reserve(), clock.Now() + absl::Seconds(5));
}

TEST(RateLimiterTest, ZeroRateIsUnlimited) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.Reserve(), clock.Now());
}

TEST(BackoffTest, FullJitterStaysWithinTheExponentialCeiling) {
  BackoffPolicy policy{absl::Milliseconds(100), absl::Seconds(2), 10};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    absl::Duration ceiling =
        std::min(policy.max, policy.initial * static_cast<double>(1 << (attempt - 1)));
    for (int i = 0; i < 200; ++i) {
      absl::Duration d = BackoffDelay(policy, attempt);
      EXPECT_GE(d, absl::ZeroDuration());
      EXPECT_LE(d, ceiling);
    }
  }
}

TEST(BackoffTest, HonoursRetryAfter) {
  BackoffPolicy policy{absl::Milliseconds(100), absl::Seconds(2), 10};
  EXPECT_GE(BackoffDelay(policy, 1, absl::Seconds(7)), absl::Seconds(7));
}

TEST(BackoffTest, FullJitterSpreadsOverTheWholeRange) {
  BackoffPolicy policy{absl::Milliseconds(100), absl::Seconds(30), 10};
  absl::Duration lowest = absl::InfiniteDuration();
  absl::Duration highest = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    absl::Duration d = BackoffDelay(policy, 4);  // ceiling 800 ms
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  // Not "exponential plus a little jitter": retries land anywhere from 0 to the ceiling.
  EXPECT_LT(lowest, absl::Milliseconds(80));
  EXPECT_GT(highest, absl::Milliseconds(720));
}

TEST(BackoffTest, CeilingNeverPassesTheMaximum) {
  BackoffPolicy policy{absl::Milliseconds(500), absl::Seconds(30), 100};
  for (int attempt : {10, 31, 64, 1000}) {
    EXPECT_LE(BackoffDelay(policy, attempt), absl::Seconds(30)) << attempt;
  }
}

}  // namespace
}  // namespace qwenimage
