// ImageStore: the gateway's own copy of generated images, kept past DashScope's 24 h expiry.
#ifndef QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_
#define QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::store {

// One stored image, read in pieces so that a reader costs O(piece) memory, not O(image).
// Blocking: used from executor threads, never from a gRPC reaction.
class ImageReader {
 public:
  virtual ~ImageReader() = default;
  // The image's size in bytes.
  virtual int64_t size() const = 0;
  // The next at most `max_bytes` bytes (max_bytes > 0); an empty string once all were read.
  virtual absl::StatusOr<std::string> Read(size_t max_bytes) = 0;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  // Stores the bytes atomically (a reader never sees a partial image); replaces any old copy.
  virtual absl::Status Put(absl::string_view task_id, int index, absl::string_view bytes) = 0;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<std::string> Get(absl::string_view task_id, int index) = 0;
  // A reader of a whole stored image. NOT_FOUND if absent. If the image is deleted or replaced
  // while it is read, a store either keeps serving the old bytes (a file held open) or fails
  // the next Read with ABORTED (an object store that checks its ETag); it never mixes the two.
  virtual absl::StatusOr<std::unique_ptr<ImageReader>> Open(absl::string_view task_id,
                                                            int index) = 0;
  // Removes every image of the task; OK if there were none.
  virtual absl::Status DeleteTask(absl::string_view task_id) = 0;
  // Every task id that has images stored (at start: finds files a crash orphaned).
  virtual absl::StatusOr<std::vector<std::string>> ListTaskIds() = 0;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_IMAGE_STORE_H_
