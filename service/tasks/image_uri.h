// The gateway URI of a stored result image, "qwenimage://tasks/{task_id}/images/{index}"
// (Image.uri), and its parse (InputImage.task_image refers to one).
#ifndef QWENIMAGE_SERVICE_TASKS_IMAGE_URI_H_
#define QWENIMAGE_SERVICE_TASKS_IMAGE_URI_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::tasks {

struct ImageRef {
  std::string task_id;
  int index = 0;
};

std::string ImageUri(absl::string_view task_id, int index);

// INVALID_ARGUMENT unless `uri` is exactly that form: a task id of [A-Za-z0-9_-]{1,128} and a
// decimal index of 0..999 without a sign or leading zeros.
absl::StatusOr<ImageRef> ParseImageUri(absl::string_view uri);

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_IMAGE_URI_H_
