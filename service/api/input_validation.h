// Checks of a create request's input images (GenerationSpec.input_images) that need no store:
// each has one source; uploaded bytes are at most dashscope::kMaxInputImageBytes, of a format
// sniffed from their magic bytes (agreeing with a given content_type) and with sides within the
// input range; a url is https, at most 2048 characters of printable ASCII without credentials;
// a task_image has the Image.uri form. Whether a task_image is the caller's is the task layer's
// check (tasks/input_images.h).
#ifndef QWENIMAGE_SERVICE_API_INPUT_VALIDATION_H_
#define QWENIMAGE_SERVICE_API_INPUT_VALIDATION_H_

#include <vector>

#include "qwenimage/v1/task.pb.h"
#include "service/dashscope/catalog.h"

namespace qwenimage::api {

inline constexpr size_t kMaxInputUrlChars = 2048;

// Appends a violation ("spec.input_images[1].url", ...) for each rule an input breaks, and
// moves the inputs out of `spec` into `inputs` (bytes inputs with their sniffed content_type,
// width and height set; output-only fields a caller sent are cleared).
void TakeInputImages(v1::GenerationSpec& spec, std::vector<v1::InputImage>* inputs,
                     std::vector<dashscope::Violation>* violations);

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_INPUT_VALIDATION_H_
