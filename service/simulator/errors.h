// DashScope error replies as the simulator produces them: HTTP status, `code`, `message`, and the
// catalog of codes it can inject (status and default message per code, as the real service uses).
#ifndef QWENIMAGE_SERVICE_SIMULATOR_ERRORS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_ERRORS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace qwenimage::simulator {

struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
};

// An error for `code` with the real service's HTTP status and message (InternalError → 500,
// Throttling.* → 429, DataInspectionFailed → 400, ...). Unknown codes are 400 with a generic text.
ApiError ErrorForCode(absl::string_view code);

// An error for an HTTP status alone ([sim:status=N]): 429 Throttling.RateQuota, 503
// ModelUnavailable, 5xx InternalError, anything else InvalidParameter.
ApiError ErrorForStatus(int http_status);

// Whether a load balancer in front of DashScope answers `status` when upstream is slow or
// failing (408, 5xx): the statuses [sim:after=N] accepts.
inline bool IsGatewayStatus(int status) {
  return status == 408 || (status >= 500 && status <= 599);
}

inline ApiError InvalidParameter(std::string message) {
  return ApiError{400, "InvalidParameter", std::move(message)};
}

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_ERRORS_H_
