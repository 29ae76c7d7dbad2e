#include "service/tasks/rate_quotas.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "service/tasks/quota_error.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

class RateQuotasTest : public ::testing::Test {
 protected:
  RateQuotas::LoadFn Loader() {
    return [this](const std::string& tenant, absl::Time since) {
      ++loads_;
      loaded_since_ = since;
      std::vector<std::pair<absl::Time, int>> created;
      for (const auto& [at, n] : stored_) {
        if (at >= since) created.emplace_back(at, n);
      }
      return absl::StatusOr<std::vector<std::pair<absl::Time, int>>>(created);
    };
  }
  static TenantQuotas Creates(int per_minute) {
    TenantQuotas q;
    q.creates_per_minute = per_minute;
    return q;
  }
  static TenantQuotas Images(int per_day) {
    TenantQuotas q;
    q.images_per_day = per_day;
    return q;
  }
  static QuotaExceeded Refusal(const absl::StatusOr<RateQuotas::Reservation>& r) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
    std::optional<QuotaExceeded> e = GetQuotaExceeded(r.status());
    EXPECT_TRUE(e.has_value()) << r.status();
    return e.value_or(QuotaExceeded{});
  }

  qwenimage::testing::FakeClock clock_;
  std::vector<std::pair<absl::Time, int>> stored_;  // what the "store" holds for the tenant
  int loads_ = 0;
  absl::Time loaded_since_;
  RateQuotas quotas_{clock_, Loader()};
};

TEST_F(RateQuotasTest, CreatesPerMinuteRefillsAsTheWindowMoves) {
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(quotas_.Reserve("t", Creates(2), 1).ok());
  clock_.Set(start + absl::Seconds(20));
  ASSERT_TRUE(quotas_.Reserve("t", Creates(2), 1).ok());
  clock_.Set(start + absl::Seconds(30));
  QuotaExceeded e = Refusal(quotas_.Reserve("t", Creates(2), 1));
  EXPECT_EQ(e.quota, QuotaKind::kCreatesPerMinute);
  EXPECT_EQ(e.tenant, "t");
  EXPECT_EQ(e.limit, 2);
  EXPECT_EQ(e.retry_after, absl::Seconds(30));  // the first create leaves the window at 60 s
  EXPECT_TRUE(quotas_.Reserve("u", Creates(2), 1).ok());  // other tenants are not affected
  clock_.Set(start + absl::Seconds(60));
  ASSERT_TRUE(quotas_.Reserve("t", Creates(2), 1).ok());
  e = Refusal(quotas_.Reserve("t", Creates(2), 1));
  EXPECT_EQ(e.retry_after, absl::Seconds(20));  // now the second one, at 80 s
}

TEST_F(RateQuotasTest, ACancelledReservationGivesItsPlaceBack) {
  absl::StatusOr<RateQuotas::Reservation> r = quotas_.Reserve("t", Creates(1), 1);
  ASSERT_TRUE(r.ok());
  Refusal(quotas_.Reserve("t", Creates(1), 1));
  quotas_.Cancel(*r);
  EXPECT_TRUE(quotas_.Reserve("t", Creates(1), 1).ok());
}

TEST_F(RateQuotasTest, ImagesPerDaySumsImagesAndRefillsAfter24Hours) {
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(quotas_.Reserve("t", Images(5), 2).ok());
  clock_.Set(start + absl::Hours(1));
  ASSERT_TRUE(quotas_.Reserve("t", Images(5), 2).ok());
  clock_.Set(start + absl::Hours(2));
  QuotaExceeded e = Refusal(quotas_.Reserve("t", Images(5), 2));  // 4 + 2 > 5
  EXPECT_EQ(e.quota, QuotaKind::kImagesPerDay);
  EXPECT_EQ(e.limit, 5);
  EXPECT_EQ(e.retry_after, absl::Hours(22));  // the first 2 leave at 24 h
  ASSERT_TRUE(quotas_.Reserve("t", Images(5), 1).ok());  // 1 still fits
  clock_.Set(start + absl::Hours(24));
  ASSERT_TRUE(quotas_.Reserve("t", Images(5), 2).ok());  // 3 + 2
  e = Refusal(quotas_.Reserve("t", Images(5), 3));
  // 3 fit once the 2 of hour 1 and the 1 of hour 2 have left the window.
  EXPECT_EQ(e.retry_after, absl::Hours(2));
}

TEST_F(RateQuotasTest, MoreImagesThanTheDailyLimitHaveNoRetryHint) {
  QuotaExceeded e = Refusal(quotas_.Reserve("t", Images(3), 4));
  EXPECT_EQ(e.quota, QuotaKind::kImagesPerDay);
  EXPECT_FALSE(e.retry_after.has_value());
}

TEST_F(RateQuotasTest, ImagesWindowIsSeededOnceFromTheStore) {
  const absl::Time now = clock_.Now();
  stored_ = {{now - absl::Hours(25), 4}, {now - absl::Hours(3), 3}, {now - absl::Hours(1), 0}};
  // 3 + 1 (n = 0 stored by an old build counts as 1) of the last 24 hours: 1 of 5 left.
  QuotaExceeded e = Refusal(quotas_.Reserve("t", Images(5), 2));
  EXPECT_EQ(loaded_since_, now - absl::Hours(24));
  EXPECT_EQ(e.retry_after, absl::Hours(21));
  ASSERT_TRUE(quotas_.Reserve("t", Images(5), 1).ok());
  EXPECT_EQ(loads_, 1);
  // Unlimited tenants never read the store.
  ASSERT_TRUE(quotas_.Reserve("u", Creates(10), 100).ok());
  EXPECT_EQ(loads_, 1);
}

TEST_F(RateQuotasTest, IdleTenantsAreDropped) {
  for (int i = 0; i < 100; ++i) {
    TenantQuotas q = Creates(10);
    q.images_per_day = 10;
    ASSERT_TRUE(quotas_.Reserve("t" + std::to_string(i), q, 1).ok());
  }
  EXPECT_EQ(quotas_.TrackedTenants(), 100u);
  clock_.Set(clock_.Now() + absl::Hours(24) + absl::Minutes(1));
  ASSERT_TRUE(quotas_.Reserve("other", Creates(10), 1).ok());
  EXPECT_EQ(quotas_.TrackedTenants(), 1u);
  // Unlimited: nothing is kept.
  ASSERT_TRUE(quotas_.Reserve("free", TenantQuotas{}, 1).ok());
  EXPECT_EQ(quotas_.TrackedTenants(), 1u);
}

}  // namespace
}  // namespace qwenimage::tasks
