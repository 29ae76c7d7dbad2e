// Human-readable rendering of a failed gRPC call: code name, message, and the google.rpc details
// the gateway attaches (upstream error code, field violations, retry delay).
#ifndef QWENIMAGE_CLIENT_CLI_STATUS_FORMAT_H_
#define QWENIMAGE_CLIENT_CLI_STATUS_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace qwenimage::cli {

// "NOT_FOUND", "UNAVAILABLE", ...
absl::string_view GrpcCodeName(grpc::StatusCode code);

// "qwen-image: <CODE>: <message>" and one indented line per detail, newline-terminated.
std::string FormatStatus(const grpc::Status& status);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_STATUS_FORMAT_H_
