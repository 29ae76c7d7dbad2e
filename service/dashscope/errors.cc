#include "service/dashscope/errors.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace qwenimage::dashscope {
namespace {

constexpr char kPayloadUrl[] = "type.qwenimage/dashscope.UpstreamError";

// Task-level failures arrive inside HTTP 200 replies; these codes mean "try again later".
bool IsTransientCode(absl::string_view code) {
  // InternalError.Algo.InvalidParameter is a parameter check, not an outage.
  return (absl::StartsWith(code, "InternalError") && !absl::StrContains(code, "InvalidParameter")) ||
         code == "SystemError" ||
         code == "ModelServiceFailed" || code == "RewriteFailed" ||
         code == "ModelUnavailable" || code == "RequestTimeOut";
}

bool IsThrottlingCode(absl::string_view code) {
  return absl::StartsWith(code, "Throttling") || code == "LimitRequests" ||
         code == "limit_requests" || code == "limit_burst_rate" ||
         code == "insufficient_quota";
}

const char* KindName(UpstreamError::Kind kind) {
  switch (kind) {
    case UpstreamError::Kind::kTerminal: return "terminal";
    case UpstreamError::Kind::kRetryable: return "retryable";
    case UpstreamError::Kind::kThrottled: return "throttled";
    case UpstreamError::Kind::kOutcomeUnknown: return "outcome_unknown";
  }
  return "terminal";
}

std::optional<UpstreamError::Kind> KindFromName(absl::string_view name) {
  for (auto kind : {UpstreamError::Kind::kTerminal, UpstreamError::Kind::kRetryable,
                    UpstreamError::Kind::kThrottled, UpstreamError::Kind::kOutcomeUnknown}) {
    if (name == KindName(kind)) return kind;
  }
  return std::nullopt;
}

absl::StatusCode TerminalStatusCode(const UpstreamError& error) {
  if (IsModerationCode(error.code) || IsBillingCode(error.code)) {
    return absl::StatusCode::kFailedPrecondition;
  }
  switch (error.http_status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    default: return absl::StatusCode::kInternal;
  }
}

}  // namespace

bool IsModerationCode(absl::string_view code) {
  return code == "DataInspectionFailed" || code == "data_inspection_failed" ||
         code == "IPInfringementSuspect" || code == "InvalidParameter.DataInspection";
}

bool IsBillingCode(absl::string_view code) {
  return code == "Arrearage" || code == "CommodityNotPurchased" ||
         code == "PrepaidBillOverdue" || code == "PostpaidBillOverdue";
}

UpstreamError::Kind ClassifyError(int http_status, absl::string_view code) {
  using Kind = UpstreamError::Kind;
  if (IsBillingCode(code)) return Kind::kTerminal;
  if (http_status == 429) return Kind::kThrottled;
  if (http_status == 408 || http_status >= 500) return Kind::kRetryable;
  if (http_status >= 400) return Kind::kTerminal;
  // No HTTP error (a FAILED task inside a 200 reply): the code alone decides.
  if (IsThrottlingCode(code)) return Kind::kThrottled;
  if (IsTransientCode(code)) return Kind::kRetryable;
  return Kind::kTerminal;
}

absl::Status UpstreamErrorStatus(const UpstreamError& error) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  switch (error.kind) {
    case UpstreamError::Kind::kThrottled: code = absl::StatusCode::kResourceExhausted; break;
    case UpstreamError::Kind::kRetryable: code = absl::StatusCode::kUnavailable; break;
    case UpstreamError::Kind::kOutcomeUnknown: code = absl::StatusCode::kDeadlineExceeded; break;
    case UpstreamError::Kind::kTerminal: code = TerminalStatusCode(error); break;
  }
  absl::Status status(code, absl::StrCat(error.code, ": ", error.message));
  nlohmann::json j = {{"kind", KindName(error.kind)},
                      {"http_status", error.http_status},
                      {"code", error.code},
                      {"message", error.message},
                      {"request_id", error.request_id}};
  if (error.retry_after.has_value()) {
    j["retry_after_ms"] = absl::ToInt64Milliseconds(*error.retry_after);
  }
  // Replacement keeps invalid UTF-8 from upstream from throwing.
  status.SetPayload(kPayloadUrl,
                    absl::Cord(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return status;
}

std::optional<UpstreamError> GetUpstreamError(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(std::string(*payload), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  std::optional<UpstreamError::Kind> kind = KindFromName(j.value("kind", ""));
  if (!kind.has_value()) return std::nullopt;
  UpstreamError error;
  error.kind = *kind;
  error.http_status = j.value("http_status", 0);
  error.code = j.value("code", "");
  error.message = j.value("message", "");
  error.request_id = j.value("request_id", "");
  if (j.contains("retry_after_ms")) {
    error.retry_after = absl::Milliseconds(j.value("retry_after_ms", int64_t{0}));
  }
  return error;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  // RFC 9110 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(), &when,
                       &error)) {
    return std::nullopt;
  }
  return when > now ? when - now : absl::ZeroDuration();
}

}  // namespace qwenimage::dashscope
