// ImageStore: the gateway's own copy of generated images, kept past DashScope's 24 h expiry.
#ifndef QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_
#define QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  // Stores the bytes atomically (a reader never sees a partial image); replaces any old copy.
  virtual absl::Status Put(absl::string_view task_id, int index, absl::string_view bytes) = 0;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<std::string> Get(absl::string_view task_id, int index) = 0;
  // Removes every image of the task; OK if there were none.
  virtual absl::Status DeleteTask(absl::string_view task_id) = 0;
  // Every task id that has images stored (at start: finds files a crash orphaned).
  virtual absl::StatusOr<std::vector<std::string>> ListTaskIds() = 0;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_
