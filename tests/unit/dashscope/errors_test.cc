#include "service/dashscope/errors.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

using Kind = UpstreamError::Kind;

TEST(UpstreamErrorStatusTest, CarriesTheVerdictsStatusCode) {
  UpstreamError e;
  e.kind = Kind::kOutcomeUnknown;
  e.status_code = absl::StatusCode::kUnknown;
  e.code = "Transport";
  EXPECT_EQ(UpstreamErrorStatus(e).code(), absl::StatusCode::kUnknown);
  e.status_code = absl::StatusCode::kOk;  // never classified: still an error
  EXPECT_EQ(UpstreamErrorStatus(e).code(), absl::StatusCode::kInternal);
}

TEST(UpstreamErrorStatusTest, RoundTripsThroughPayload) {
  UpstreamError e;
  e.kind = Kind::kThrottled;
  e.caller_may_retry = true;
  e.status_code = absl::StatusCode::kResourceExhausted;
  e.http_status = 429;
  e.code = "Throttling.RateQuota";
  e.message = "Requests rate limit exceeded, please try again later.";
  e.request_id = "req-1";
  e.retry_after = absl::Seconds(3);
  const absl::Status status = UpstreamErrorStatus(e);
  EXPECT_EQ(status.message(),
            "Throttling.RateQuota: Requests rate limit exceeded, please try again later.");
  auto back = GetUpstreamError(status);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, e.kind);
  EXPECT_TRUE(back->caller_may_retry);
  EXPECT_EQ(back->status_code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(back->http_status, 429);
  EXPECT_EQ(back->code, e.code);
  EXPECT_EQ(back->message, e.message);
  EXPECT_EQ(back->request_id, "req-1");
  EXPECT_EQ(back->retry_after, absl::Seconds(3));
}

TEST(UpstreamErrorStatusTest, PlainStatusHasNoUpstreamError) {
  EXPECT_FALSE(GetUpstreamError(absl::UnavailableError("x")).has_value());
  EXPECT_FALSE(GetUpstreamError(absl::OkStatus()).has_value());
}

TEST(UpstreamErrorStatusTest, InvalidUtf8MessageSurvives) {
  UpstreamError e;
  e.code = "Unknown";
  e.message = "bad \xff byte";
  auto back = GetUpstreamError(UpstreamErrorStatus(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->code, "Unknown");
}

TEST(ParseRetryAfterTest, SecondsAndDates) {
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 6, 11, 9, 38, 24), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter("7", now), absl::Seconds(7));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Thu, 11 Jun 2026 09:38:54 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Thu, 11 Jun 2026 09:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("infinite-future", now), std::nullopt);  // found by fuzzing
}

}  // namespace
}  // namespace qwenimage::dashscope
