// The simulator's model catalog and the parsing + validation of create bodies for both the sync
// (multimodal-generation) and async (image-synthesis) endpoints, with the real service's errors.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_
#define QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/simulator/errors.h"

namespace qwenimage::simulator {

// The rules a model family follows (reference §3.3, §9).
enum class Family {
  kText,    // qwen-image, -plus, -max (+ snapshots): fixed sizes, n = 1, no image input
  kV2,      // qwen-image-2.0(-pro): pixel-range sizes, n 1..6, 0..3 images, no `task_metric`
  kEditV1,  // qwen-image-edit: exactly 1 image + 1 text, n = 1, no size parameter
  kEdit,    // qwen-image-edit-plus / -max: 1..3 images, n 1..6, each side 512..2048
};

struct ModelSpec {
  absl::string_view name;
  bool async;  // also served by text2image/image-synthesis
  Family family;
};

// nullptr for a model the simulator does not know.
const ModelSpec* FindModel(absl::string_view name);

inline constexpr int kMaxPromptChars = 800;
inline constexpr int kMaxNegativePromptChars = 500;

struct ImageRequest {
  const ModelSpec* model = nullptr;
  std::string prompt;            // truncated to kMaxPromptChars
  std::string full_prompt;       // as submitted (markers are read from it)
  std::string negative_prompt;   // truncated to kMaxNegativePromptChars
  int width = 0;
  int height = 0;
  int n = 1;
  int64_t seed = 0;
  bool prompt_extend = true;
  bool watermark = false;
  // Edits (§9): the image items in order, data URIs decoded into `bytes`, http(s) URLs left to
  // FetchInputImages (edit_inputs.h), which fills `bytes`.
  struct Input {
    std::string url;    // "" for a data URI
    std::string bytes;  // the image file
  };
  std::vector<Input> inputs;
  bool size_given = false;  // parameters.size was sent; otherwise an edit follows its last input
  std::vector<std::string> input_sha256;  // lowercase hex, in order (CheckInputImages)
};

enum class CreateEndpoint { kGeneration, kImageSynthesis };

inline constexpr int64_t kMaxInputImageBytes = int64_t{10} << 20;

// Parses and validates a create body (pure: image URLs are checked, never fetched). `random_seed` is used when the body has no seed.
// Errors: BadRequest.IllegalInput (not JSON), BadRequest.EmptyModel/EmptyInput, InvalidParameter
// ("Model not exist.", size, n, seed, messages shape, image count, a data URI that is not
// base64 or over 10 MiB), InvalidURL for an image value that is neither a data URI nor an http(s)
// URL of printable ASCII, AccessDenied for a sync-only model on the async endpoint.
std::optional<ApiError> ParseImageRequest(absl::string_view body, CreateEndpoint endpoint,
                                          int64_t random_seed, ImageRequest* out);

// Counts Unicode code points (each CJK char, letter, digit or symbol counts 1) and keeps the first
// `max_chars` of them.
std::string TruncateChars(absl::string_view text, int max_chars);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_
