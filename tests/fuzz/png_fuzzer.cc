// DecodePng (service/common/png.h) on arbitrary bytes: a verdict for every input, dimensions
// within the pixel cap when it accepts, RESOURCE_EXHAUSTED only past the cap.
#include <cstddef>
#include <cstdint>

#include "service/common/png.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {

// Small enough that a few KiB of deflate cannot keep one run busy for long.
constexpr int64_t kMaxPixels = 1 << 20;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<PngInfo> info = DecodePng(bytes, kMaxPixels);
  if (!info.ok()) {
    FUZZ_CHECK(info.status().code() == absl::StatusCode::kInvalidArgument ||
               info.status().code() == absl::StatusCode::kResourceExhausted);
    return 0;
  }
  FUZZ_CHECK(size >= 8 + 25 + 12 + 12);  // signature, IHDR, IDAT, IEND
  FUZZ_CHECK(info->width > 0 && info->height > 0);
  FUZZ_CHECK(int64_t{info->width} * info->height <= kMaxPixels);
  const int depth = info->bit_depth;
  FUZZ_CHECK(depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16);
  switch (info->color_type) {
    case 0: break;                                           // gray: every depth
    case 3: FUZZ_CHECK(depth <= 8); break;                   // palette
    case 2: case 4: case 6: FUZZ_CHECK(depth >= 8); break;   // RGB, gray+alpha, RGBA
    default: FUZZ_CHECK(false);
  }
  // The cap is applied from IHDR alone: the same bytes under a smaller cap are refused as such.
  const int64_t pixels = int64_t{info->width} * info->height;
  if (pixels > 1) {
    absl::StatusOr<PngInfo> capped = DecodePng(bytes, pixels - 1);
    FUZZ_CHECK(capped.status().code() == absl::StatusCode::kResourceExhausted);
  }
  return 0;
}

}  // namespace qwenimage::fuzz
