// The model catalog: every Qwen-Image model and snapshot the gateway accepts, its upstream mode
// and its validation rules (dashscope-api.md §1.2, §3.3).
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

struct ModelInfo {
  std::string name;
  std::string snapshot_of;  // "" unless a dated snapshot
  UpstreamMode mode = UpstreamMode::kSync;
  std::vector<std::string> sizes;  // fixed sizes; empty => pixel range applies
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
  std::string default_size;
  int min_n = 1;
  int max_n = 1;
  int max_prompt_chars = 800;
  int max_negative_prompt_chars = 500;
  int64_t max_seed = 2147483647;
  bool default_prompt_extend = true;
  bool default_watermark = false;
};

class ModelCatalog {
 public:
  explicit ModelCatalog(std::vector<ModelInfo> models);
  // Every model of dashscope-api.md.
  static const ModelCatalog& Default();

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
};

// Checks `input` against the catalog: unknown model, empty/over-long/non-UTF-8 prompt, size
// format and rule, n range, seed range. Returns every violation (empty: valid).
std::vector<Violation> Validate(const ModelCatalog& catalog, const GenerationInput& input);

// Fills defaults into a valid input. Precondition: Validate() returned no violation.
GenerationParams ResolveDefaults(const ModelInfo& model, const GenerationInput& input);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_CATALOG_H_
