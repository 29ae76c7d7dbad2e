// Checks of request fields that the catalog does not cover: tenant, ids, paging, filters.
#ifndef QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_
#define QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "qwenimage/v1/image_service.pb.h"
#include "service/dashscope/catalog.h"
#include "service/dashscope/types.h"
#include "service/store/task_store.h"

namespace qwenimage::api {

inline constexpr char kTenantHeader[] = "x-qwenimage-tenant";
inline constexpr char kDefaultTenant[] = "default";
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// The caller's tenant from request metadata; INVALID_ARGUMENT if malformed.
grpc::Status TenantOf(const grpc::CallbackServerContext* ctx, std::string* tenant);

// Validates a create request (request_id and spec against the catalog) and resolves defaults.
grpc::Status ValidateCreate(const dashscope::ModelCatalog& catalog, const std::string& request_id,
                            const v1::GenerationSpec* spec, dashscope::GenerationParams* params);

// A required task id: INVALID_ARGUMENT when empty.
grpc::Status ValidateTaskId(const std::string& task_id);

// Builds the store query for ListTasks, decoding the page token.
grpc::Status ToListQuery(const std::string& tenant, const v1::ListTasksRequest& request,
                         store::ListQuery* query, std::string* filter_fingerprint);

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_REQUEST_VALIDATION_H_
