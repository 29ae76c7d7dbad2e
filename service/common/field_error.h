// FieldError: an INVALID_ARGUMENT that names the request field at fault, so that a layer below
// the API can refuse a field (a page token, say) and the caller still gets a BadRequest detail.
#ifndef QWENIMAGE_SERVICE_COMMON_FIELD_ERROR_H_
#define QWENIMAGE_SERVICE_COMMON_FIELD_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qwenimage {

// INVALID_ARGUMENT "<field>: <description>" that carries `field`.
absl::Status FieldError(absl::string_view field, absl::string_view description);

// The field a FieldError names; nullopt for any other status.
std::optional<std::string> ErrorField(const absl::Status& status);

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_FIELD_ERROR_H_
