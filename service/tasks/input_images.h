// The input images of an edit (GenerationSpec.input_images) in the task layer: recorded in the
// task's spec without their bytes, and their bytes kept in the image store beside the task's
// results (store::InputImageIndex) from creation until the task's images are deleted, so that a
// queued edit survives a restart and any replica can send it.
#ifndef QWENIMAGE_SERVICE_TASKS_INPUT_IMAGES_H_
#define QWENIMAGE_SERVICE_TASKS_INPUT_IMAGES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "qwenimage/v1/task.pb.h"
#include "service/store/image_store.h"
#include "service/store/task_store.h"

namespace qwenimage::tasks {

// Resolves and stores the inputs of the new task `task_id` of `tenant`, in order. `inputs` were
// checked by the API layer (api/input_validation.h): bytes inputs carry their sniffed
// content_type, width and height. Uploaded bytes are stored as they are and a task_image (a
// result of one of the tenant's own tasks) is copied, so that its later deletion cannot take
// it from this task; both get sha256 and size_bytes recorded and lose their bytes. url inputs
// are recorded as sent. Returns the inputs as the task records them.
// Errors: NOT_FOUND for a task_image that is not the tenant's, not succeeded, or whose images
// are gone; INVALID_ARGUMENT (a FieldError) for a stored image outside the input rules; the
// store's errors. On an error nothing stays stored.
absl::StatusOr<std::vector<v1::InputImage>> StoreInputImages(store::TaskStore& tasks,
                                                             store::ImageStore& images,
                                                             const std::string& tenant,
                                                             const std::string& task_id,
                                                             std::vector<v1::InputImage> inputs);

// What goes upstream for a task's recorded inputs (GenerationParams::images): url inputs as
// they are, stored ones as "data:<type>;base64,..." after checking their bytes against the
// recorded sha256. Blocking (the image store). NOT_FOUND if a stored input is gone; DATA_LOSS
// if its bytes changed; the store's errors otherwise.
absl::StatusOr<std::vector<std::string>> LoadInputImages(store::ImageStore& images,
                                                         const v1::Task& task);

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_INPUT_IMAGES_H_
