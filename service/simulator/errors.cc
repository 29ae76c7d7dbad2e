// The codes, statuses and messages of DashScope errors the simulator can emit (reference §6).
#include "service/simulator/errors.h"

#include "absl/strings/match.h"

namespace qwenimage::simulator {
namespace {

struct KnownError {
  absl::string_view code;
  int http_status;
  absl::string_view message;
};

constexpr KnownError kKnownErrors[] = {
    {"InvalidParameter", 400, "Required parameter(s) missing or invalid, please check the request parameters."},
    {"DataInspectionFailed", 400, "Input data may contain inappropriate content."},
    {"IPInfringementSuspect", 400, "Input data is suspected of being involved in IP infringement."},
    {"Arrearage", 400, "Access denied, please make sure your account is in good standing."},
    {"InvalidApiKey", 401, "Invalid API-key provided."},
    {"AccessDenied", 403, "Access denied."},
    {"AccessDenied.Unpurchased", 403, "Access to model denied. Please make sure you are eligible for using the model."},
    {"ModelNotFound", 404, "Model not found."},
    {"Throttling", 429, "Requests throttling triggered."},
    {"Throttling.RateQuota", 429, "Requests rate limit exceeded, please try again later."},
    {"Throttling.BurstRate", 429, "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time."},
    {"Throttling.AllocationQuota", 429, "Allocated quota exceeded, please increase your quota limit."},
    {"Throttling.Concurrency", 429, "Too many concurrent requests, please try again later."},
    {"InternalError", 500, "An internal error has occured, please try again later or contact service support."},
    {"InternalError.Algo", 500, "An internal error has occured during algorithm execution."},
    {"InternalError.Timeout", 500, "An internal timeout error has occured during execution, please try again later or contact service support."},
    {"RewriteFailed", 500, "Failed to rewrite the prompt, please try again later."},
    {"RequestTimeOut", 500, "Request timed out, please try again later."},
    {"ModelUnavailable", 503, "Service temporarily unavailable, please try again later."},
};

}  // namespace

ApiError ErrorForCode(absl::string_view code) {
  for (const KnownError& e : kKnownErrors) {
    if (e.code == code) return ApiError{e.http_status, std::string(code), std::string(e.message)};
  }
  int status = absl::StartsWith(code, "Throttling")      ? 429
               : absl::StartsWith(code, "InternalError") ? 500
                                                         : 400;
  return ApiError{status, std::string(code), "Simulated error."};
}

ApiError ErrorForStatus(int http_status) {
  ApiError e = http_status == 429   ? ErrorForCode("Throttling.RateQuota")
               : http_status == 503 ? ErrorForCode("ModelUnavailable")
               : http_status >= 500 ? ErrorForCode("InternalError")
                                    : ErrorForCode("InvalidParameter");
  e.http_status = http_status;
  return e;
}

}  // namespace qwenimage::simulator
