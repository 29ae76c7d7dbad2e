// The failure classification, row by row against dashscope-api.md §6 and its billing rule: a
// billed call is re-sent only when DashScope's own JSON error says no work was done.
#include "service/dashscope/failure.h"

#include <string>

#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

using Kind = UpstreamError::Kind;
using Shape = Answer::Shape;
constexpr CallKind kBilled = CallKind::kBilled;
constexpr CallKind kFree = CallKind::kFree;

Verdict Json(CallKind call, int http, const char* code) {
  return Classify(call, {Shape::kDashScope, http, code});
}

void ExpectVerdict(const Verdict& v, Kind kind, bool retry, absl::StatusCode status,
                   const std::string& row) {
  EXPECT_EQ(v.kind, kind) << row;
  EXPECT_EQ(v.caller_may_retry, retry) << row;
  EXPECT_EQ(v.status_code, status) << row;
}

// Every row of the §6 table, as DashScope's own JSON error on a billed call.
TEST(ClassifyTest, ReferenceTableOnABilledCall) {
  struct Row {
    int http;
    const char* code;
    Kind kind;
    bool retry;
    absl::StatusCode status;
  };
  const Row rows[] = {
      {400, "InvalidParameter", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {400, "InternalError.Algo.InvalidParameter", Kind::kTerminal, false,
       absl::StatusCode::kInvalidArgument},
      {400, "DataInspectionFailed", Kind::kTerminal, false, absl::StatusCode::kFailedPrecondition},
      {400, "data_inspection_failed", Kind::kTerminal, false,
       absl::StatusCode::kFailedPrecondition},
      {400, "IPInfringementSuspect", Kind::kTerminal, false,
       absl::StatusCode::kFailedPrecondition},
      {400, "BadRequest.EmptyInput", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {400, "BadRequest.IllegalInput", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {400, "InvalidURL", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {400, "InvalidParameter.DataInspection", Kind::kTerminal, false,
       absl::StatusCode::kFailedPrecondition},
      {400, "Arrearage", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {400, "UnsupportedOperation", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {401, "InvalidApiKey", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {401, "NOT AUTHORIZED", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {403, "AccessDenied", Kind::kTerminal, false, absl::StatusCode::kInternal},
      {403, "AccessDenied.Unpurchased", Kind::kTerminal, false, absl::StatusCode::kInternal},
      {403, "Model.AccessDenied", Kind::kTerminal, false, absl::StatusCode::kInternal},
      {403, "AllocationQuota.FreeTierOnly", Kind::kTerminal, false, absl::StatusCode::kInternal},
      {404, "ModelNotFound", Kind::kTerminal, false, absl::StatusCode::kFailedPrecondition},
      {404, "WorkSpaceNotFound", Kind::kTerminal, false, absl::StatusCode::kFailedPrecondition},
      {408, "RequestTimeOut", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "RequestTimeOut", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {413, "BadRequest.TooLarge", Kind::kTerminal, false, absl::StatusCode::kInvalidArgument},
      {415, "BadRequest.UnsupportedFileFormat", Kind::kTerminal, false,
       absl::StatusCode::kInvalidArgument},
      {429, "Throttling", Kind::kThrottled, true, absl::StatusCode::kResourceExhausted},
      {429, "Throttling.RateQuota", Kind::kThrottled, true, absl::StatusCode::kResourceExhausted},
      {429, "Throttling.BurstRate", Kind::kThrottled, true, absl::StatusCode::kResourceExhausted},
      {429, "Throttling.AllocationQuota", Kind::kThrottled, true,
       absl::StatusCode::kResourceExhausted},
      {429, "Throttling.Concurrency", Kind::kThrottled, true, absl::StatusCode::kResourceExhausted},
      {429, "CommodityNotPurchased", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {429, "PrepaidBillOverdue", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {429, "PostpaidBillOverdue", Kind::kCredentials, true, absl::StatusCode::kInternal},
      {500, "InternalError", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "InternalError.Algo", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "InternalError.Upload", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "SystemError", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "ModelServiceFailed", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "RewriteFailed", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {500, "InternalError.Timeout", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
      {503, "ModelUnavailable", Kind::kRetryable, true, absl::StatusCode::kUnavailable},
  };
  for (const Row& r : rows) {
    ExpectVerdict(Json(kBilled, r.http, r.code), r.kind, r.retry, r.status,
                  std::to_string(r.http) + " " + r.code);
  }
}

TEST(ClassifyTest, UnlistedCodesFollowTheHttpStatus) {
  ExpectVerdict(Json(kBilled, 429, "SomethingNew"), Kind::kThrottled, true,
                absl::StatusCode::kResourceExhausted, "429");
  // A 5xx JSON body with a code DashScope does not use may be a proxy's: never re-sent.
  ExpectVerdict(Json(kBilled, 502, "BadGateway"), Kind::kOutcomeUnknown, false,
                absl::StatusCode::kUnknown, "billed 502 with an unlisted code");
  ExpectVerdict(Json(kFree, 502, "BadGateway"), Kind::kRetryable, true,
                absl::StatusCode::kUnavailable, "free 502 with an unlisted code");
  ExpectVerdict(Json(kBilled, 401, "SomethingNew"), Kind::kCredentials, true,
                absl::StatusCode::kInternal, "401");
  ExpectVerdict(Json(kBilled, 400, "SomethingNew"), Kind::kTerminal, false,
                absl::StatusCode::kInvalidArgument, "400");
}

// §6: a 5xx/408 whose body is not DashScope's JSON (an HTML 502/504 from a load balancer, an
// empty body) means the work may exist and be billed.
TEST(ClassifyTest, ForeignErrorBodiesOnABilledCallAreOutcomeUnknown) {
  for (int http : {408, 429, 500, 502, 503, 504}) {
    ExpectVerdict(Classify(kBilled, {Shape::kForeign, http, "Unknown"}), Kind::kOutcomeUnknown,
                  false, absl::StatusCode::kUnknown, "billed foreign " + std::to_string(http));
  }
}

TEST(ClassifyTest, ForeignErrorBodiesOnAFreeCallAreRetried) {
  ExpectVerdict(Classify(kFree, {Shape::kForeign, 502, "Unknown"}), Kind::kRetryable, true,
                absl::StatusCode::kUnavailable, "free 502");
  // A proxy's 403/404 page on a task query must not end a task that runs (and bills) upstream.
  ExpectVerdict(Classify(kFree, {Shape::kForeign, 404, "Unknown"}), Kind::kRetryable, true,
                absl::StatusCode::kUnavailable, "free 404 html");
  ExpectVerdict(Classify(kFree, {Shape::kForeign, 429, "Unknown"}), Kind::kThrottled, true,
                absl::StatusCode::kResourceExhausted, "free 429");
}

TEST(ClassifyTest, DownloadsTakeTheStoragesRefusalAsFinal) {
  // An expired signed URL: OSS's own XML 403.
  ExpectVerdict(Classify(CallKind::kDownload, {Shape::kForeign, 403, "Unknown"}), Kind::kTerminal,
                false, absl::StatusCode::kInternal, "download 403");
  ExpectVerdict(Classify(CallKind::kDownload, {Shape::kForeign, 503, "Unknown"}),
                Kind::kRetryable, true, absl::StatusCode::kUnavailable, "download 503");
}

TEST(ClassifyTest, ForeignRefusalsInFrontOfDashScope) {
  // A proxy's own 4xx: the request never reached upstream, and resending cannot help.
  ExpectVerdict(Classify(kBilled, {Shape::kForeign, 413, "Unknown"}), Kind::kTerminal, false,
                absl::StatusCode::kInternal, "413 html");
  // 401 is the key whoever says it.
  ExpectVerdict(Classify(kBilled, {Shape::kForeign, 401, "Unknown"}), Kind::kCredentials, true,
                absl::StatusCode::kInternal, "401 html");
}

TEST(ClassifyTest, TransportErrors) {
  const Answer before_sending{Shape::kTransport, 0, "Transport", /*may_have_been_sent=*/false};
  const Answer after_sending{Shape::kTransport, 0, "Transport", /*may_have_been_sent=*/true};
  ExpectVerdict(Classify(kBilled, before_sending), Kind::kRetryable, true,
                absl::StatusCode::kUnavailable, "billed, not sent");
  ExpectVerdict(Classify(kBilled, after_sending), Kind::kOutcomeUnknown, false,
                absl::StatusCode::kUnknown, "billed, timeout/reset after sending");
  ExpectVerdict(Classify(kFree, after_sending), Kind::kRetryable, true,
                absl::StatusCode::kUnavailable, "free, after sending");
}

TEST(ClassifyTest, MalformedAndOversizedReplies) {
  ExpectVerdict(Classify(kBilled, {Shape::kMalformed, 200, "MalformedResponse"}),
                Kind::kOutcomeUnknown, false, absl::StatusCode::kUnknown, "billed malformed");
  ExpectVerdict(Classify(kFree, {Shape::kMalformed, 200, "MalformedResponse"}), Kind::kRetryable,
                true, absl::StatusCode::kUnavailable, "free malformed");
  ExpectVerdict(Classify(kFree, {Shape::kTooLarge, 0, "ResponseTooLarge"}), Kind::kTerminal,
                false, absl::StatusCode::kInternal, "free too large");
  ExpectVerdict(Classify(kBilled, {Shape::kTooLarge, 0, "ResponseTooLarge"}),
                Kind::kOutcomeUnknown, false, absl::StatusCode::kUnknown, "billed too large");
}

// A task that ran and FAILED is over (never re-sent by the gateway); the code says whether a
// fresh request may succeed and what the caller is told.
TEST(ClassifyTaskFailureTest, TaskLevelCodes) {
  ExpectVerdict(ClassifyTaskFailure("InternalError.Timeout"), Kind::kTerminal, true,
                absl::StatusCode::kUnavailable, "timeout");
  ExpectVerdict(ClassifyTaskFailure("RewriteFailed"), Kind::kTerminal, true,
                absl::StatusCode::kUnavailable, "rewrite");
  ExpectVerdict(ClassifyTaskFailure("InternalError.Algo.InvalidParameter"), Kind::kTerminal,
                false, absl::StatusCode::kInvalidArgument, "algo parameter");
  ExpectVerdict(ClassifyTaskFailure("InvalidParameter"), Kind::kTerminal, false,
                absl::StatusCode::kInvalidArgument, "parameter");
  ExpectVerdict(ClassifyTaskFailure("DataInspectionFailed"), Kind::kTerminal, false,
                absl::StatusCode::kFailedPrecondition, "moderation");
  ExpectVerdict(ClassifyTaskFailure("Throttling.AllocationQuota"), Kind::kTerminal, true,
                absl::StatusCode::kResourceExhausted, "quota");
  ExpectVerdict(ClassifyTaskFailure("SomethingNew"), Kind::kTerminal, false,
                absl::StatusCode::kInternal, "unlisted");
}

TEST(ClassifyTest, RecordsTheVerdictInTheError) {
  UpstreamError e;
  Classify(kBilled, {Shape::kDashScope, 429, "Throttling.RateQuota"}, e);
  EXPECT_EQ(e.kind, Kind::kThrottled);
  EXPECT_TRUE(e.caller_may_retry);
  EXPECT_EQ(e.status_code, absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace qwenimage::dashscope
