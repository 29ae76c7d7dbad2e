// The (task id, index) key every ImageStore accepts, and where a task's input images live in it.
// Both become part of a path or an object key, so anything else could escape the store's root or
// prefix.
#ifndef QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_
#define QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

// A task's stored images are its results (index 0, 1, ... as Image.index) and, for an edit, its
// input images, kept from creation until the task's images are deleted: input i is stored at
// index kFirstInputImageIndex + i. (Results never reach that index: n is at most 6.)
inline constexpr int kFirstInputImageIndex = 1000;
inline int InputImageIndex(int input) { return kFirstInputImageIndex + input; }

// INVALID_ARGUMENT unless `task_id` matches [A-Za-z0-9_-]{1,128}.
absl::Status ValidateImageTaskId(absl::string_view task_id);
// The task id as above, and `index` >= 0.
absl::Status ValidateImageKey(absl::string_view task_id, int index);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_IMAGE_KEY_H_
