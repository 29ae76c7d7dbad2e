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

const char* KindName(UpstreamError::Kind kind) {
  switch (kind) {
    case UpstreamError::Kind::kTerminal: return "terminal";
    case UpstreamError::Kind::kRetryable: return "retryable";
    case UpstreamError::Kind::kThrottled: return "throttled";
    case UpstreamError::Kind::kOutcomeUnknown: return "outcome_unknown";
    case UpstreamError::Kind::kCredentials: return "credentials";
  }
  return "terminal";
}

std::optional<UpstreamError::Kind> KindFromName(absl::string_view name) {
  for (auto kind : {UpstreamError::Kind::kTerminal, UpstreamError::Kind::kRetryable,
                    UpstreamError::Kind::kThrottled, UpstreamError::Kind::kOutcomeUnknown,
                    UpstreamError::Kind::kCredentials}) {
    if (name == KindName(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace

absl::Status UpstreamErrorStatus(const UpstreamError& error) {
  // An OK code would drop the message and payload: an unclassified error is INTERNAL.
  const absl::StatusCode code =
      error.status_code == absl::StatusCode::kOk ? absl::StatusCode::kInternal : error.status_code;
  absl::Status status(code, absl::StrCat(error.code, ": ", error.message));
  nlohmann::json j = {{"kind", KindName(error.kind)},
                      {"caller_may_retry", error.caller_may_retry},
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
  error.caller_may_retry = j.value("caller_may_retry", false);
  error.status_code = status.code();
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
  // absl::ParseTime also takes the literals "infinite-future" and "infinite-past".
  if (when == absl::InfiniteFuture() || when == absl::InfinitePast()) return std::nullopt;
  return when > now ? when - now : absl::ZeroDuration();
}

}  // namespace qwenimage::dashscope
