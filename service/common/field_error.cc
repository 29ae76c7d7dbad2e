#include "service/common/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace qwenimage {
namespace {

constexpr char kFieldPayload[] = "type.qwenimage.dev/field";

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view description) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

std::optional<std::string> ErrorField(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return std::nullopt;
  auto field = status.GetPayload(kFieldPayload);  // absl::optional<absl::Cord>
  if (!field.has_value()) return std::nullopt;
  return std::string(*field);
}

}  // namespace qwenimage
