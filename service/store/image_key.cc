#include "service/store/image_key.h"

#include <cstddef>

#include "absl/strings/ascii.h"

namespace qwenimage::store {
namespace {

constexpr size_t kMaxTaskIdSize = 128;

}  // namespace

absl::Status ValidateImageTaskId(absl::string_view task_id) {
  if (task_id.empty() || task_id.size() > kMaxTaskIdSize) {
    return absl::InvalidArgumentError("task_id must be 1 to 128 characters");
  }
  for (char c : task_id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return absl::InvalidArgumentError("task_id may contain only [A-Za-z0-9_-]");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateImageKey(absl::string_view task_id, int index) {
  if (absl::Status s = ValidateImageTaskId(task_id); !s.ok()) return s;
  if (index < 0) return absl::InvalidArgumentError("image index must be >= 0");
  return absl::OkStatus();
}

}  // namespace qwenimage::store
