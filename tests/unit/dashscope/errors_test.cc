#include "service/dashscope/errors.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

using Kind = UpstreamError::Kind;

TEST(ClassifyErrorTest, ReferenceTable) {
  EXPECT_EQ(ClassifyError(400, "InvalidParameter"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(400, "DataInspectionFailed"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(400, "Arrearage"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(401, "InvalidApiKey"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(403, "AccessDenied"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(404, "ModelNotFound"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(408, "RequestTimeOut"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(413, "BadRequest.TooLarge"), Kind::kTerminal);
  for (const char* code : {"Throttling", "Throttling.RateQuota", "Throttling.BurstRate",
                           "Throttling.AllocationQuota", "Throttling.Concurrency", "Unknown"}) {
    EXPECT_EQ(ClassifyError(429, code), Kind::kThrottled) << code;
  }
  for (const char* code : {"CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"}) {
    EXPECT_EQ(ClassifyError(429, code), Kind::kTerminal) << code;
  }
  EXPECT_EQ(ClassifyError(500, "InternalError"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(500, "InternalError.Timeout"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(503, "ModelUnavailable"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(504, "Unknown"), Kind::kRetryable);
}

TEST(ClassifyErrorTest, TaskLevelCodesWithoutHttpError) {
  EXPECT_EQ(ClassifyError(200, "InternalError.Timeout"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(200, "RewriteFailed"), Kind::kRetryable);
  EXPECT_EQ(ClassifyError(200, "InternalError.Algo.InvalidParameter"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(200, "InvalidParameter"), Kind::kTerminal);
  EXPECT_EQ(ClassifyError(0, "Throttling.RateQuota"), Kind::kThrottled);
  EXPECT_EQ(ClassifyError(200, "DataInspectionFailed"), Kind::kTerminal);
}

TEST(UpstreamErrorStatusTest, StatusCodes) {
  auto code_of = [](Kind kind, int http, const char* code) {
    UpstreamError e;
    e.kind = kind;
    e.http_status = http;
    e.code = code;
    return UpstreamErrorStatus(e).code();
  };
  EXPECT_EQ(code_of(Kind::kThrottled, 429, "Throttling"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(code_of(Kind::kRetryable, 500, "InternalError"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code_of(Kind::kOutcomeUnknown, 0, "Transport"), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(code_of(Kind::kTerminal, 400, "InvalidParameter"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(Kind::kTerminal, 400, "DataInspectionFailed"),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(code_of(Kind::kTerminal, 400, "Arrearage"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(code_of(Kind::kTerminal, 429, "PrepaidBillOverdue"),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(code_of(Kind::kTerminal, 401, "InvalidApiKey"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code_of(Kind::kTerminal, 403, "AccessDenied"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code_of(Kind::kTerminal, 404, "ModelNotFound"), absl::StatusCode::kNotFound);
  EXPECT_EQ(code_of(Kind::kTerminal, 413, "BadRequest.TooLarge"), absl::StatusCode::kInternal);
}

TEST(UpstreamErrorStatusTest, RoundTripsThroughPayload) {
  UpstreamError e;
  e.kind = Kind::kThrottled;
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

TEST(IsModerationCodeTest, Codes) {
  for (const char* code : {"DataInspectionFailed", "data_inspection_failed",
                           "IPInfringementSuspect", "InvalidParameter.DataInspection"}) {
    EXPECT_TRUE(IsModerationCode(code)) << code;
  }
  EXPECT_FALSE(IsModerationCode("InvalidParameter"));
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
}

}  // namespace
}  // namespace qwenimage::dashscope
