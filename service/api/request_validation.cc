#include "service/api/request_validation.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/input_validation.h"
#include "service/api/status.h"
#include "service/tasks/convert.h"

namespace qwenimage::api {
namespace {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == ':';
}

}  // namespace

grpc::Status ValidateCreate(const dashscope::ModelCatalog& catalog, const std::string& request_id,
                            v1::GenerationSpec* spec, dashscope::GenerationParams* params,
                            std::vector<v1::InputImage>* inputs) {
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
  std::vector<dashscope::Violation> spec_violations = dashscope::Validate(catalog, input);
  TakeInputImages(*spec, inputs, &spec_violations);
  for (dashscope::Violation& v : spec_violations) {
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

grpc::Status ToListRequest(const std::string& tenant, const v1::ListTasksRequest& request,
                           tasks::ListRequest* list) {
  std::vector<dashscope::Violation> violations;
  if (request.page_size() < 0) violations.push_back({"page_size", "must not be negative"});
  list->tenant = tenant;
  list->page_size = request.page_size() == 0 ? kDefaultPageSize
                                             : std::min(request.page_size(), kMaxPageSize);
  for (int state : request.states()) {
    if (state == v1::TASK_STATE_UNSPECIFIED || !v1::TaskState_IsValid(state)) {
      violations.push_back({"states", absl::StrCat("unknown state ", state)});
      continue;
    }
    list->states.push_back(static_cast<v1::TaskState>(state));
  }
  list->model = request.model();
  if (request.has_create_time_after()) {
    list->created_at_or_after = tasks::FromProto(request.create_time_after());
  }
  if (request.has_create_time_before()) {
    list->created_before = tasks::FromProto(request.create_time_before());
  }
  list->page_token = request.page_token();
  if (!violations.empty()) return InvalidArgument(violations);
  return grpc::Status::OK;
}

}  // namespace qwenimage::api
