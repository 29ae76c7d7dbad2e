// The simulator's model catalog and the parsing + validation of create bodies for both the sync
// (multimodal-generation) and async (image-synthesis) endpoints, with the real service's errors.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_
#define QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "service/simulator/errors.h"

namespace qwenimage::simulator {

struct ModelSpec {
  absl::string_view name;
  bool async;  // also served by text2image/image-synthesis
  bool v2;     // qwen-image-2.0 family: pixel-range sizes, n 1..6, no `task_metric`
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
};

enum class CreateEndpoint { kGeneration, kImageSynthesis };

// Parses and validates a create body. `random_seed` is used when the body has no seed.
// Errors: BadRequest.IllegalInput (not JSON), BadRequest.EmptyModel/EmptyInput, InvalidParameter
// ("Model not exist.", size, n, seed, messages shape), AccessDenied for a sync-only model on the
// async endpoint.
std::optional<ApiError> ParseImageRequest(absl::string_view body, CreateEndpoint endpoint,
                                          int64_t random_seed, ImageRequest* out);

// Counts Unicode code points (each CJK char, letter, digit or symbol counts 1) and keeps the first
// `max_chars` of them.
std::string TruncateChars(absl::string_view text, int max_chars);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_REQUEST_H_
