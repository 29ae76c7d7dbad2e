// Saving stored images to disk over ReadImage, with the sha256 from the image metadata
// verified before the file appears. Shared by `generate` and `download`.
#ifndef QWENIMAGE_CLIENT_CLI_IMAGE_SAVER_H_
#define QWENIMAGE_CLIENT_CLI_IMAGE_SAVER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/cli/invocation.h"

namespace qwenimage::cli {

// Where image `index` of a task with `count` images goes. `out` is a directory (default ".")
// receiving "<task_id>-<index>.png", or a path ending in ".png": used as is for one image,
// and as "<stem>-<index>.png" for several.
std::string ImagePath(absl::string_view out, absl::string_view task_id, int index, int count);

// Lowercase hex SHA-256.
std::string Sha256Hex(absl::string_view data);

// Downloads each of `indices` of the task to ImagePath(out, ...) and prints one line (or JSON
// document) per file: path, bytes, size, sha256. Returns the exit code.
int SaveImages(Invocation& inv, const std::string& task_id, const std::vector<int>& indices,
               int count, absl::string_view out);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_IMAGE_SAVER_H_
