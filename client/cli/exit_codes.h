// Process exit codes of the qwen-image CLI and how gRPC status codes map onto them. Scripts
// depend on these numbers: never renumber.
#ifndef QWENIMAGE_CLIENT_CLI_EXIT_CODES_H_
#define QWENIMAGE_CLIENT_CLI_EXIT_CODES_H_

#include "grpcpp/support/status.h"

namespace qwenimage::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // anything not listed below
  kExitUsage = 2,        // bad command line, or the server said INVALID_ARGUMENT
  kExitTaskFailed = 3,   // the task ended FAILED or CANCELLED
  kExitUnavailable = 4,  // server unreachable, or a deadline passed
  kExitNotFound = 5,     // unknown task (or image)
};

inline constexpr char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  any other error\n"
    "  2  usage error or invalid input (also INVALID_ARGUMENT from the server)\n"
    "  3  the task ended FAILED or CANCELLED\n"
    "  4  server unavailable or deadline exceeded\n"
    "  5  task or image not found\n";

inline ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitUsage;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    default:
      return kExitError;
  }
}

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_EXIT_CODES_H_
