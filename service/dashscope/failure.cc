#include "service/dashscope/failure.h"

#include "absl/strings/match.h"

namespace qwenimage::dashscope {
namespace {

using Kind = UpstreamError::Kind;
using Shape = Answer::Shape;

// What a DashScope error code says, whatever the HTTP status it came with.
enum class Family {
  kUnlisted,    // not in the table: the HTTP status decides
  kThrottled,   // rate, burst, concurrency or quota limits: nothing was done; wait and resend
  kTransient,   // server-side trouble reported by DashScope itself: nothing was done
  kAccount,     // the key or the account's state: the operator must act; nothing was done
  kModeration,  // content moderation: change the prompt
  kInvalid,     // the request (or the gateway's use of the API) is wrong: never succeeds as is
};

struct CodeRule {
  absl::string_view code;
  bool prefix;  // `code` matches every code that starts with it
  Family family;
};

// dashscope-api.md §6. First match wins, so exceptions to a prefix come before it.
constexpr CodeRule kCodes[] = {
    // Billing states arrive as 400 and 429 too; no amount of waiting fixes them.
    {"Arrearage", false, Family::kAccount},
    {"CommodityNotPurchased", false, Family::kAccount},
    {"PrepaidBillOverdue", false, Family::kAccount},
    {"PostpaidBillOverdue", false, Family::kAccount},
    {"InvalidApiKey", false, Family::kAccount},
    {"invalid_api_key", false, Family::kAccount},
    {"NOT AUTHORIZED", false, Family::kAccount},
    {"Throttling", true, Family::kThrottled},
    {"LimitRequests", false, Family::kThrottled},
    {"limit_requests", false, Family::kThrottled},
    {"limit_burst_rate", false, Family::kThrottled},
    {"insufficient_quota", false, Family::kThrottled},
    {"DataInspectionFailed", false, Family::kModeration},
    {"data_inspection_failed", false, Family::kModeration},
    {"IPInfringementSuspect", false, Family::kModeration},
    {"InvalidParameter.DataInspection", false, Family::kModeration},
    // A parameter check on the algorithm side, not an outage.
    {"InternalError.Algo.InvalidParameter", false, Family::kInvalid},
    {"InternalError", true, Family::kTransient},
    {"SystemError", false, Family::kTransient},
    {"ModelServiceFailed", false, Family::kTransient},
    {"RewriteFailed", false, Family::kTransient},
    {"ModelUnavailable", false, Family::kTransient},
    {"RequestTimeOut", false, Family::kTransient},
    {"InvalidParameter", true, Family::kInvalid},
    {"BadRequest", true, Family::kInvalid},
    {"InvalidURL", false, Family::kInvalid},
    {"UnsupportedOperation", false, Family::kInvalid},
    // The model is not activated for this account: other models still work, so it fails the
    // task rather than pausing the account.
    {"AccessDenied", true, Family::kInvalid},
    {"Model.AccessDenied", false, Family::kInvalid},
    {"Workspace.AccessDenied", false, Family::kInvalid},
    {"AllocationQuota.FreeTierOnly", false, Family::kInvalid},
    {"ModelNotFound", false, Family::kInvalid},
    {"model_not_found", false, Family::kInvalid},
    {"WorkSpaceNotFound", false, Family::kInvalid},
};

Family FamilyOf(absl::string_view code) {
  for (const CodeRule& rule : kCodes) {
    if (rule.prefix ? absl::StartsWith(code, rule.code) : code == rule.code) return rule.family;
  }
  return Family::kUnlisted;
}

// A code the table does not know, read from the HTTP status it came with.
Family FamilyOfStatus(int http_status) {
  if (http_status == 401) return Family::kAccount;
  if (http_status == 429) return Family::kThrottled;
  if (http_status == 408 || http_status >= 500) return Family::kTransient;
  return Family::kInvalid;
}

absl::StatusCode InvalidStatusCode(int http_status) {
  switch (http_status) {
    case 400:
    case 413:
    case 415:
      return absl::StatusCode::kInvalidArgument;
    case 404:  // the catalog has a model this account or region is not served
      return absl::StatusCode::kFailedPrecondition;
    default:  // 403 and the like: the gateway's use of the API, not the caller's request
      return absl::StatusCode::kInternal;
  }
}

// DashScope said what happened, so the work was not done (failed generations are not billed).
Verdict FromFamily(Family family, int http_status, bool task_ran) {
  switch (family) {
    case Family::kThrottled:
      return {task_ran ? Kind::kTerminal : Kind::kThrottled, true,
              absl::StatusCode::kResourceExhausted};
    case Family::kTransient:
      return {task_ran ? Kind::kTerminal : Kind::kRetryable, true,
              absl::StatusCode::kUnavailable};
    case Family::kAccount:
      // The gateway's key, not the caller's fault: INTERNAL to the caller, loud in the logs.
      return {task_ran ? Kind::kTerminal : Kind::kCredentials, true, absl::StatusCode::kInternal};
    case Family::kModeration:
      return {Kind::kTerminal, false, absl::StatusCode::kFailedPrecondition};
    case Family::kInvalid:
      return {Kind::kTerminal, false, InvalidStatusCode(http_status)};
    case Family::kUnlisted:
      break;
  }
  return {Kind::kTerminal, false, absl::StatusCode::kInternal};
}

// The request may have done its work and the reply was lost on the way back.
constexpr Verdict kOutcomeUnknown = {Kind::kOutcomeUnknown, false, absl::StatusCode::kUnknown};
constexpr Verdict kSendAgain = {Kind::kRetryable, true, absl::StatusCode::kUnavailable};

}  // namespace

Verdict Classify(CallKind call, const Answer& answer) {
  const bool billed = call == CallKind::kBilled;
  switch (answer.shape) {
    case Shape::kTransport:
      if (!answer.may_have_been_sent) return kSendAgain;
      return billed ? kOutcomeUnknown : kSendAgain;
    case Shape::kTooLarge:
      return billed ? kOutcomeUnknown
                    : Verdict{Kind::kTerminal, false, absl::StatusCode::kInternal};
    case Shape::kMalformed:
      return billed ? kOutcomeUnknown : kSendAgain;
    case Shape::kForeign: {
      // Not DashScope's words: a proxy or load balancer answered. 401 still means our key.
      const Family family = FamilyOfStatus(answer.http_status);
      if (family == Family::kAccount) return FromFamily(family, answer.http_status, false);
      if (call == CallKind::kDownload && family == Family::kInvalid) {
        return {Kind::kTerminal, false, absl::StatusCode::kInternal};
      }
      if (!billed) {
        // Task queries are idempotent: a proxy's odd page (even a 4xx) is worth another try,
        // and failing a task that runs upstream on it would discard billed work.
        return family == Family::kThrottled ? FromFamily(family, answer.http_status, false)
                                            : kSendAgain;
      }
      if (family == Family::kInvalid) {
        // Refused in front of DashScope (a 4xx of the proxy's own): nothing reached upstream.
        return {Kind::kTerminal, false, absl::StatusCode::kInternal};
      }
      // 408, 429, 5xx: upstream may have done the work before the proxy gave up.
      return kOutcomeUnknown;
    }
    case Shape::kDashScope:
    case Shape::kTaskFailure: {
      Family family = FamilyOf(answer.code);
      if (family == Family::kUnlisted && billed && answer.shape == Shape::kDashScope &&
          (answer.http_status == 408 || answer.http_status >= 500)) {
        // A JSON body with a code DashScope does not use: possibly a proxy's, after upstream
        // did the work. Only DashScope's own codes license sending a billed call again.
        return kOutcomeUnknown;
      }
      if (family == Family::kUnlisted) family = FamilyOfStatus(answer.http_status);
      if (answer.shape == Shape::kTaskFailure && family == Family::kInvalid &&
          FamilyOf(answer.code) == Family::kUnlisted) {
        // An unlisted code on a task that ran: the HTTP status (200) says nothing.
        return {Kind::kTerminal, false, absl::StatusCode::kInternal};
      }
      const int status = answer.shape == Shape::kTaskFailure ? 400 : answer.http_status;
      return FromFamily(family, status, answer.shape == Shape::kTaskFailure);
    }
  }
  return kOutcomeUnknown;
}

void Classify(CallKind call, const Answer& answer, UpstreamError& error) {
  const Verdict verdict = Classify(call, answer);
  error.kind = verdict.kind;
  error.caller_may_retry = verdict.caller_may_retry;
  error.status_code = verdict.status_code;
}

}  // namespace qwenimage::dashscope
