// DirImageStore: ImageStore on a local directory, one file per image at <root>/<task_id>/<i>.png.
// Writes go to a temp file that is fsynced and renamed, so readers see whole images or none.
#ifndef QWENIMAGE_SERVICE_STORE_DIR_IMAGE_STORE_H_
#define QWENIMAGE_SERVICE_STORE_DIR_IMAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/image_store.h"

namespace qwenimage::store {

class DirImageStore : public ImageStore {
 public:
  // Creates `root` (and parents) if missing.
  static absl::StatusOr<std::unique_ptr<DirImageStore>> Open(const std::string& root);

  // Task ids must match [A-Za-z0-9_-]{1,128} and indexes be >= 0, else INVALID_ARGUMENT: both
  // become path components, so anything else could escape `root`.
  absl::Status Put(absl::string_view task_id, int index, absl::string_view bytes) override;
  absl::StatusOr<std::string> Get(absl::string_view task_id, int index) override;
  // Holds the file open: a reader keeps its bytes even if the image is deleted or replaced.
  absl::StatusOr<std::unique_ptr<ImageReader>> Open(absl::string_view task_id,
                                                    int index) override;
  absl::Status DeleteTask(absl::string_view task_id) override;
  // Sorted. A task counts once its directory holds a finished "<index>.png": a directory with
  // only temp files (a Put in progress, or one a crash interrupted) and entries whose names are
  // not task ids are skipped, as is a task deleted while the listing runs.
  absl::StatusOr<std::vector<std::string>> ListTaskIds() override;

  const std::string& root() const { return root_; }

 private:
  explicit DirImageStore(std::string root) : root_(std::move(root)) {}

  std::string root_;
  // Makes temp names unique between concurrent Puts of the same image in this process.
  std::atomic<uint64_t> next_temp_{0};
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_DIR_IMAGE_STORE_H_
