// Checks of request fields that the catalog does not cover: ids, paging, filters (the tenant
// comes from auth::Authenticator).
#ifndef QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_
#define QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "qwenimage/v1/image_service.pb.h"
#include "service/dashscope/catalog.h"
#include "service/dashscope/types.h"
#include "service/tasks/task_listing.h"

namespace qwenimage::api {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// Validates a create request (request_id, and spec against the catalog and the input-image
// rules of input_validation.h) and resolves defaults. Moves the spec's input images into
// `inputs`, checked, for TaskManager::Create.
grpc::Status ValidateCreate(const dashscope::ModelCatalog& catalog, const std::string& request_id,
                            v1::GenerationSpec* spec, dashscope::GenerationParams* params,
                            std::vector<v1::InputImage>* inputs);

// A required task id: INVALID_ARGUMENT when empty.
grpc::Status ValidateTaskId(const std::string& task_id);

// Checks ListTasks' fields and maps them onto the tasks layer's request (the page token is
// checked there, against the filters it was issued for).
grpc::Status ToListRequest(const std::string& tenant, const v1::ListTasksRequest& request,
                           tasks::ListRequest* list);

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_
