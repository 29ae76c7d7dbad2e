// Request validation (service/api/request_validation.h): ValidateCreate against the default
// catalog, ToListRequest and the tasks layer's page-token decoding, ValidateTaskId. Input: a selector byte,
// then a serialized CreateTaskRequest / ListTasksRequest, or a raw task id.
// (TenantOf needs a live CallbackServerContext and is not fuzzed here.)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qwenimage/v1/image_service.pb.h"
#include "service/api/input_validation.h"
#include "service/api/request_validation.h"
#include "service/dashscope/catalog.h"
#include "service/tasks/task_listing.h"
#include "service/tasks/convert.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace {

namespace ds = dashscope;

void FuzzCreate(absl::string_view bytes) {
  v1::CreateTaskRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  const ds::ModelCatalog& catalog = ds::ModelCatalog::Default();
  ds::GenerationParams params;
  std::vector<v1::InputImage> inputs;
  const int input_count = request.spec().input_images_size();
  const grpc::Status status =
      api::ValidateCreate(catalog, request.request_id(),
                          request.has_spec() ? request.mutable_spec() : nullptr, &params, &inputs);
  if (!status.ok()) {
    FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    FUZZ_CHECK(!status.error_details().empty());
    return;
  }
  // What goes upstream obeys the catalog.
  const ds::ModelInfo* model = catalog.Find(params.model);
  FUZZ_CHECK(model != nullptr);
  FUZZ_CHECK(!params.prompt.empty());
  FUZZ_CHECK(params.n >= model->min_n && params.n <= model->max_n);
  if (params.seed.has_value()) FUZZ_CHECK(*params.seed >= 0 && *params.seed <= model->max_seed);
  // The inputs obey the catalog and each has its one source; uploads were sniffed.
  FUZZ_CHECK(static_cast<int>(inputs.size()) == input_count);
  FUZZ_CHECK(input_count >= model->min_input_images && input_count <= model->max_input_images);
  for (const v1::InputImage& input : inputs) {
    FUZZ_CHECK(input.source_case() != v1::InputImage::SOURCE_NOT_SET);
    if (input.source_case() == v1::InputImage::kData) {
      FUZZ_CHECK(!input.content_type().empty() && input.width() >= ds::kMinInputImageSide &&
                 input.height() >= ds::kMinInputImageSide);
      FUZZ_CHECK(static_cast<int64_t>(input.data().size()) <= ds::kMaxInputImageBytes);
    }
    if (input.source_case() == v1::InputImage::kUrl) {
      FUZZ_CHECK(input.url().size() <= api::kMaxInputUrlChars);
    }
  }
  if (params.size.empty()) {
    FUZZ_CHECK(input_count > 0);  // an edit without a size follows its last input
  } else {
    FUZZ_CHECK(!model->size_from_inputs);
    absl::StatusOr<ds::ImageSize> size = ds::ParseSize(params.size);
    FUZZ_CHECK(size.ok());
    FUZZ_CHECK(params.size == absl::StrCat(size->width, "*", size->height));  // canonical
    if (!model->sizes.empty()) {
      FUZZ_CHECK(std::find(model->sizes.begin(), model->sizes.end(), params.size) !=
                 model->sizes.end());
    } else if (model->max_side > 0) {
      FUZZ_CHECK(std::min(size->width, size->height) >= model->min_side &&
                 std::max(size->width, size->height) <= model->max_side);
    } else {
      const int64_t pixels = int64_t{size->width} * size->height;
      FUZZ_CHECK(pixels >= model->min_pixels && pixels <= model->max_pixels);
    }
  }
  // The resolved request is itself valid and resolves to itself (the stored spec is replayed).
  v1::GenerationSpec resolved = tasks::ToSpec(params);
  for (const v1::InputImage& input : inputs) *resolved.add_input_images() = input;
  ds::GenerationParams again;
  std::vector<v1::InputImage> again_inputs;
  FUZZ_CHECK(
      api::ValidateCreate(catalog, request.request_id(), &resolved, &again, &again_inputs).ok());
  FUZZ_CHECK(again_inputs.size() == inputs.size());
  FUZZ_CHECK(again.model == params.model && again.prompt == params.prompt &&
             again.negative_prompt == params.negative_prompt && again.size == params.size &&
             again.n == params.n && again.seed == params.seed &&
             again.prompt_extend == params.prompt_extend && again.watermark == params.watermark);
}

void FuzzList(absl::string_view tenant, absl::string_view bytes) {
  v1::ListTasksRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  tasks::ListRequest list;
  const grpc::Status status = api::ToListRequest(std::string(tenant), request, &list);
  if (!status.ok()) {
    FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    return;
  }
  FUZZ_CHECK(list.tenant == tenant);
  FUZZ_CHECK(list.page_size >= 1 && list.page_size <= api::kMaxPageSize);
  for (v1::TaskState state : list.states) {
    FUZZ_CHECK(state != v1::TASK_STATE_UNSPECIFIED && v1::TaskState_IsValid(state));
  }
  absl::StatusOr<store::ListQuery> query = tasks::ToStoreQuery(list);
  if (!query.ok()) {
    FUZZ_CHECK(!list.page_token.empty());
    FUZZ_CHECK(query.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(query->tenant == tenant && query->limit == list.page_size + 1);
  FUZZ_CHECK(query->after.has_value() == !list.page_token.empty());
  // A token the gateway issues for this filter is accepted on the next page.
  v1::Task last;
  last.set_id("task-1");
  tasks::ToProto(query->after.has_value() ? query->after->create_time
                                          : absl::FromUnixMicros(bytes.size()),
                 last.mutable_create_time());
  tasks::ListRequest next = list;
  next.page_token = tasks::NextPageToken(list, last);
  absl::StatusOr<store::ListQuery> next_query = tasks::ToStoreQuery(next);
  FUZZ_CHECK(next_query.ok());
  FUZZ_CHECK(next_query->after.has_value() && next_query->after->id == last.id() &&
             next_query->after->create_time == tasks::FromProto(last.create_time()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t selector = in.Byte();
  switch (selector % 3) {
    case 0:
      FuzzCreate(in.Rest());
      break;
    case 1: {
      const std::string tenant = in.Short(64);
      FuzzList(tenant, in.Rest());
      break;
    }
    default: {
      const std::string id(in.Rest());
      const grpc::Status status = api::ValidateTaskId(id);
      FUZZ_CHECK(status.ok() == (!id.empty() && id.size() <= 128));
      break;
    }
  }
  return 0;
}

}  // namespace qwenimage::fuzz
