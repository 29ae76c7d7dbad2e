// The model catalog: every Qwen-Image model and snapshot the gateway accepts, its upstream mode,
// its validation rules, where it is served and its default account limits (dashscope-api.md §1.2,
// §3.3, §7). The catalog is data: service/dashscope/models.json, compiled in as the built-in
// catalog (Default()); --models_file replaces it (LoadFile()).
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/image_format.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// DashScope's default per-account limits for one model (dashscope-api.md §7).
struct AccountLimits {
  int max_running = 0;            // tasks in processing at once
  double submits_per_second = 0;  // task submits per second

  friend bool operator==(const AccountLimits& a, const AccountLimits& b) {
    return a.max_running == b.max_running && a.submits_per_second == b.submits_per_second;
  }
};

struct ModelInfo {
  std::string name;
  std::string snapshot_of;  // "" unless a dated snapshot
  UpstreamMode mode = UpstreamMode::kSync;
  // The size rule, exactly one of: fixed sizes; a pixel range (width*height); a range for each
  // side; or size_from_inputs (no size may be asked for: the output follows the last input).
  std::vector<std::string> sizes;
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
  int min_side = 0;
  int max_side = 0;
  bool size_from_inputs = false;
  // For a request without input images and without a size; "" for an edit-only model.
  std::string default_size;
  int min_n = 1;
  int max_n = 1;
  int max_prompt_chars = 800;
  int max_negative_prompt_chars = 500;
  int64_t max_seed = 2147483647;
  bool default_prompt_extend = true;
  bool default_watermark = false;
  // Input images a request carries (editing): 0..0 for a generation-only model; a model with
  // min_input_images > 0 is an edit model, refused for a request without inputs.
  int min_input_images = 0;
  int max_input_images = 0;
  std::vector<std::string> regions;  // where DashScope serves it: "singapore", "beijing"
  // Unset where the API reference gives none; the scheduler then uses the flags' defaults.
  std::optional<AccountLimits> default_limits;
};

class ModelCatalog {
 public:
  explicit ModelCatalog(std::vector<ModelInfo> models);
  // The built-in catalog: models.json as compiled in, parsed once (a parse failure of that file
  // is a programming error and crashes with the message).
  static const ModelCatalog& Default();
  // A catalog file (the format of models.json; README "Model catalog"). Errors (INVALID_ARGUMENT)
  // name the entry and the field, e.g. `models[3] ("qwen-image-max"): "max_n" must be an integer
  // >= min_n`; unknown keys, duplicate names, a snapshot_of naming no model of the file, a size
  // not "W*H" and an empty model list are errors.
  static absl::StatusOr<ModelCatalog> Parse(absl::string_view json);
  // Parse() of a file's contents; errors are prefixed with the path (NOT_FOUND if unreadable).
  static absl::StatusOr<ModelCatalog> LoadFile(const std::string& path);
  // The bytes of the compiled-in models.json.
  static absl::string_view EmbeddedJson();

  const ModelInfo* Find(absl::string_view name) const;
  const std::vector<ModelInfo>& models() const { return models_; }

 private:
  std::vector<ModelInfo> models_;
};

struct ImageSize {
  int width = 0;
  int height = 0;
};
// Parses "W*H" (positive integers, asterisk only).
absl::StatusOr<ImageSize> ParseSize(absl::string_view size);

// A rule a request breaks; `field` is relative to the request spec ("size", "n", "prompt", ...).
struct Violation {
  std::string field;
  std::string description;
};

// Raw request as a caller sent it: unset optionals take the model's defaults.
struct GenerationInput {
  std::string model;
  std::string prompt;
  std::string negative_prompt;
  std::string size;  // "" = default
  int n = 0;         // 0 = default
  std::optional<int64_t> seed;
  std::optional<bool> prompt_extend;
  std::optional<bool> watermark;
  int input_images = 0;  // input images the request carries (editing)
};

// Every input image (dashscope-api.md §9): at most this many bytes, each side within the range
// (checked where the gateway sees the image: uploaded bytes and stored images).
inline constexpr int64_t kMaxInputImageBytes = int64_t{10} << 20;
inline constexpr int kMinInputImageSide = 384;
inline constexpr int kMaxInputImageSide = 3072;

// Those rules for one input image's bytes: its header (format sniffed), or INVALID_ARGUMENT
// saying which rule it breaks.
absl::StatusOr<ImageHeader> CheckInputImage(absl::string_view bytes);

// Checks `input` against the catalog: unknown model, empty/over-long/non-UTF-8 prompt, size
// format and rule, n range, seed range, input image count ("input_images"). Returns every
// violation (empty: valid).
std::vector<Violation> Validate(const ModelCatalog& catalog, const GenerationInput& input);

// Fills defaults into a valid input (an edit without a size keeps it empty: upstream follows
// the last input's aspect ratio). Precondition: Validate() returned no violation.
GenerationParams ResolveDefaults(const ModelInfo& model, const GenerationInput& input);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_
