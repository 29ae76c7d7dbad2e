// ReadMountedFile: reads a small secret or config file that an orchestrator mounts and swaps
// (a Kubernetes Secret volume replaces a symlink): stat and open by path on every call, a
// regular file only, bounded in size. Errors name the file by `what` and path, never its bytes.
#ifndef QWENIMAGE_SERVICE_COMMON_MOUNTED_FILE_H_
#define QWENIMAGE_SERVICE_COMMON_MOUNTED_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage {

// The whole contents of `path`. `what` names the file in errors ("API key file", "tokens
// file"); FAILED_PRECONDITION when it is not a regular file or holds more than `max_bytes`.
absl::StatusOr<std::string> ReadMountedFile(const std::string& path, absl::string_view what,
                                            size_t max_bytes);

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_MOUNTED_FILE_H_
