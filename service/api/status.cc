#include "service/api/status.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "absl/strings/strip.h"
#include "service/common/field_error.h"
#include "service/dashscope/errors.h"
#include "service/tasks/quota_error.h"

namespace qwenimage::api {
namespace {

grpc::Status WithDetails(grpc::StatusCode code, const std::string& message,
                         std::vector<google::protobuf::Message*> details) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(message);
  for (const google::protobuf::Message* d : details) status.add_details()->PackFrom(*d);
  return grpc::Status(code, message, status.SerializeAsString());
}

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  return static_cast<grpc::StatusCode>(static_cast<int>(code));
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  d = std::max(d, absl::ZeroDuration());
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// RESOURCE_EXHAUSTED for a tenant quota: QuotaFailure{subject "tenant:<t>", description naming
// the quota and its limit} and, when waiting can help, RetryInfo for when the quota frees.
grpc::Status QuotaStatus(const tasks::QuotaExceeded& e, const std::string& message) {
  google::rpc::QuotaFailure failure;
  google::rpc::QuotaFailure::Violation* v = failure.add_violations();
  v->set_subject(absl::StrCat("tenant:", e.tenant));
  v->set_description(absl::StrCat(tasks::QuotaName(e.quota), " quota (limit ", e.limit, ")"));
  google::rpc::RetryInfo retry;
  std::vector<google::protobuf::Message*> details = {&failure};
  if (e.retry_after.has_value()) {
    SetDuration(*e.retry_after, retry.mutable_retry_delay());
    details.push_back(&retry);
  }
  return WithDetails(grpc::StatusCode::RESOURCE_EXHAUSTED, message, details);
}

}  // namespace

grpc::Status InvalidArgument(const std::vector<dashscope::Violation>& violations,
                             const std::string& prefix) {
  google::rpc::BadRequest bad;
  std::string message;
  for (const dashscope::Violation& v : violations) {
    auto* fv = bad.add_field_violations();
    fv->set_field(prefix + v.field);
    fv->set_description(v.description);
    absl::StrAppend(&message, message.empty() ? "" : "; ", prefix, v.field, ": ", v.description);
  }
  return WithDetails(grpc::StatusCode::INVALID_ARGUMENT, message, {&bad});
}

grpc::Status InvalidArgument(const std::string& field, const std::string& description) {
  return InvalidArgument({dashscope::Violation{field, description}});
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (std::optional<std::string> field = ErrorField(status); field.has_value()) {
    // FieldError's message is "<field>: <description>".
    absl::string_view description = status.message();
    absl::ConsumePrefix(&description, absl::StrCat(*field, ": "));
    return InvalidArgument(*field, std::string(description));
  }
  std::string message(status.message());
  if (auto quota = tasks::GetQuotaExceeded(status); quota.has_value()) {
    return QuotaStatus(*quota, message);
  }
  google::rpc::ErrorInfo info;
  google::rpc::RetryInfo retry;
  std::vector<google::protobuf::Message*> details;
  grpc::StatusCode code = ToGrpcCode(status.code());
  if (auto upstream = dashscope::GetUpstreamError(status); upstream.has_value()) {
    info.set_reason(upstream->code);
    info.set_domain(kUpstreamDomain);
    if (!upstream->request_id.empty()) {
      (*info.mutable_metadata())["upstream_request_id"] = upstream->request_id;
    }
    details.push_back(&info);
  }
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNAVAILABLE) {
    retry.mutable_retry_delay()->set_seconds(1);
    details.push_back(&retry);
  }
  return WithDetails(code, message, details);
}

grpc::Status TaskOutcomeStatus(const v1::Task& task) {
  const v1::TaskError& error = task.error();
  google::rpc::ErrorInfo info;
  info.set_reason(error.code());
  info.set_domain(error.http_status() != 0 || !error.upstream_request_id().empty()
                      ? kUpstreamDomain
                      : kGatewayDomain);
  (*info.mutable_metadata())["task_id"] = task.id();
  if (!error.upstream_request_id().empty()) {
    (*info.mutable_metadata())["upstream_request_id"] = error.upstream_request_id();
  }
  std::string message = absl::StrCat("task ", task.id(), " ",
                                     task.state() == v1::TASK_STATE_CANCELLED ? "was cancelled"
                                                                              : "failed",
                                     ": ", error.code(), ": ", error.message());
  // The code was decided when the task failed (tasks/task_errors.h, dashscope/failure.h).
  grpc::StatusCode code = task.state() == v1::TASK_STATE_CANCELLED
                              ? grpc::StatusCode::CANCELLED
                              : static_cast<grpc::StatusCode>(error.status_code());
  if (code == grpc::StatusCode::OK) code = grpc::StatusCode::INTERNAL;  // stored by an old build
  google::rpc::RetryInfo retry;
  std::vector<google::protobuf::Message*> details = {&info};
  if (error.retryable()) {
    retry.mutable_retry_delay()->set_seconds(1);
    details.push_back(&retry);
  }
  return WithDetails(code, message, details);
}

}  // namespace qwenimage::api
