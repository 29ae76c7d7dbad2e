#include "service/api/request_validation.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/status.h"
#include "service/store/page_token.h"
#include "service/tasks/convert.h"

namespace qwenimage::api {
namespace {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == ':';
}

}  // namespace

grpc::Status TenantOf(const grpc::CallbackServerContext* ctx, std::string* tenant) {
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find(kTenantHeader);
  if (it == metadata.end()) {
    *tenant = kDefaultTenant;
    return grpc::Status::OK;
  }
  std::string value(it->second.data(), it->second.size());
  if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), IsIdChar)) {
    return InvalidArgument(kTenantHeader,
                           "must be 1 to 64 characters of letters, digits, '.', '_', '-', ':'");
  }
  *tenant = std::move(value);
  return grpc::Status::OK;
}

grpc::Status ValidateCreate(const dashscope::ModelCatalog& catalog, const std::string& request_id,
                            const v1::GenerationSpec* spec, dashscope::GenerationParams* params) {
  std::vector<dashscope::Violation> violations;
  if (request_id.size() > 128 ||
      !std::all_of(request_id.begin(), request_id.end(), IsIdChar)) {
    violations.push_back({"request_id",
                          "must be at most 128 characters of letters, digits, '.', '_', '-', ':'"});
  }
  if (spec == nullptr) {
    violations.push_back({"spec", "is required"});
    return InvalidArgument(violations);
  }
  dashscope::GenerationInput input = tasks::ToInput(*spec);
  for (dashscope::Violation& v : dashscope::Validate(catalog, input)) {
    v.field = absl::StrCat("spec.", v.field);
    violations.push_back(std::move(v));
  }
  if (!violations.empty()) return InvalidArgument(violations);
  *params = dashscope::ResolveDefaults(*catalog.Find(input.model), input);
  return grpc::Status::OK;
}

grpc::Status ValidateTaskId(const std::string& task_id) {
  if (task_id.empty()) return InvalidArgument("task_id", "is required");
  if (task_id.size() > 128) return InvalidArgument("task_id", "is too long to be a task id");
  return grpc::Status::OK;
}

grpc::Status ToListQuery(const std::string& tenant, const v1::ListTasksRequest& request,
                         store::ListQuery* query, std::string* filter_fingerprint) {
  std::vector<dashscope::Violation> violations;
  if (request.page_size() < 0) violations.push_back({"page_size", "must not be negative"});
  query->tenant = tenant;
  query->limit = request.page_size() == 0 ? kDefaultPageSize
                                          : std::min(request.page_size(), kMaxPageSize);
  for (int state : request.states()) {
    if (state == v1::TASK_STATE_UNSPECIFIED || !v1::TaskState_IsValid(state)) {
      violations.push_back({"states", absl::StrCat("unknown state ", state)});
      continue;
    }
    query->states.push_back(static_cast<v1::TaskState>(state));
  }
  query->model = request.model();
  if (request.has_create_time_after()) {
    query->created_at_or_after = tasks::FromProto(request.create_time_after());
  }
  if (request.has_create_time_before()) {
    query->created_before = tasks::FromProto(request.create_time_before());
  }
  // The store's tested fingerprint: independent of the order of `states`, and it tells
  // create_time_after=T from create_time_before=T.
  *filter_fingerprint = store::ListFilterFingerprint(*query);
  if (!request.page_token().empty()) {
    absl::StatusOr<store::ListCursor> cursor =
        store::DecodePageToken(request.page_token(), *filter_fingerprint);
    if (!cursor.ok()) {
      violations.push_back({"page_token", std::string(cursor.status().message())});
    } else {
      query->after = *std::move(cursor);
    }
  }
  if (!violations.empty()) return InvalidArgument(violations);
  return grpc::Status::OK;
}

}  // namespace qwenimage::api
