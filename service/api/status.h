// Conversion of internal absl::Status values to grpc::Status with google.rpc error details
// (BadRequest, ErrorInfo, RetryInfo, QuotaFailure). The only place where gRPC status codes are
// chosen.
#ifndef QWENIMAGE_SERVICE_API_STATUS_H_
#define QWENIMAGE_SERVICE_API_STATUS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "qwenimage/v1/task.pb.h"
#include "service/dashscope/catalog.h"

namespace qwenimage::api {

inline constexpr char kGatewayDomain[] = "qwenimage.v1";
inline constexpr char kUpstreamDomain[] = "dashscope.aliyuncs.com";

// INVALID_ARGUMENT with one BadRequest.FieldViolation per entry; fields get `prefix`.
grpc::Status InvalidArgument(const std::vector<dashscope::Violation>& violations,
                             const std::string& prefix = "");
grpc::Status InvalidArgument(const std::string& field, const std::string& description);

// An internal status as the caller sees it. RESOURCE_EXHAUSTED gets a RetryInfo; a tenant quota
// (tasks::QuotaExceeded) gets a QuotaFailure and a RetryInfo for when it frees (none when
// waiting cannot help).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The RPC error for a task that ended FAILED or CANCELLED (GenerateImages): the code follows
// the upstream error (moderation → FAILED_PRECONDITION, invalid upstream key → INTERNAL, ...),
// with ErrorInfo{reason = error code, metadata: task_id, upstream_request_id}.
grpc::Status TaskOutcomeStatus(const v1::Task& task);

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_STATUS_H_
