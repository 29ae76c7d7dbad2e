// Rendering of grpc::Status and its google.rpc.Status details (ErrorInfo, BadRequest,
// RetryInfo) for the CLI's error output.
#include "client/cli/status_format.h"

#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace qwenimage::cli {

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[index];
}

std::string FormatStatus(const grpc::Status& status) {
  std::string out = absl::StrCat("qwen-image: ", GrpcCodeName(status.error_code()), ": ",
                                 status.error_message(), "\n");
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return out;
  }
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      absl::StrAppend(&out, "  reason: ", info.reason(), " (", info.domain(), ")");
      auto it = info.metadata().find("upstream_request_id");
      if (it != info.metadata().end()) absl::StrAppend(&out, " upstream request ", it->second);
      absl::StrAppend(&out, "\n");
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        // The gateway's message usually lists the violations already.
        if (absl::StrContains(status.error_message(), v.description())) continue;
        absl::StrAppend(&out, "  field ", v.field(), ": ", v.description(), "\n");
      }
    } else if (any.UnpackTo(&retry)) {
      absl::StrAppend(&out, "  retry after ", retry.retry_delay().seconds(), "s\n");
    }
  }
  return out;
}

}  // namespace qwenimage::cli
