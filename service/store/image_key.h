// The (task id, index) key every ImageStore accepts. Both become part of a path or an object
// key, so anything else could escape the store's root or prefix.
#ifndef QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_
#define QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

// INVALID_ARGUMENT unless `task_id` matches [A-Za-z0-9_-]{1,128}.
absl::Status ValidateImageTaskId(absl::string_view task_id);
// The task id as above, and `index` >= 0.
absl::Status ValidateImageKey(absl::string_view task_id, int index);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_
