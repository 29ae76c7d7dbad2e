// DecodePng: proves that bytes are a complete, intact PNG by decoding every row with libpng,
// in memory proportional to one row, and reports its dimensions.
#ifndef QWENIMAGE_SERVICE_COMMON_PNG_H_
#define QWENIMAGE_SERVICE_COMMON_PNG_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage {

struct PngInfo {
  int width = 0;
  int height = 0;
  int bit_depth = 0;   // per channel (palette: per index), 1..16
  int color_type = 0;  // PNG_COLOR_TYPE_*: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  bool interlaced = false;
};

// OK only if `bytes` is exactly one PNG stream: the signature, IHDR, image data that inflates
// to every row of every pass (zlib's Adler-32 checked), and IEND, with every chunk's CRC correct
// (ancillary chunks included: libpng would otherwise drop them with a warning) and nothing after
// IEND. Trailing bytes are refused: a real encoder writes none, and data smuggled behind an image
// would be stored and served as if it were part of it.
// Errors: INVALID_ARGUMENT for anything malformed (bad signature, truncation, CRC or inflate
// errors, missing IEND, trailing bytes) with libpng's reason; RESOURCE_EXHAUSTED when
// width * height exceeds `max_pixels` (checked from IHDR, before any image data is inflated).
// Memory is one row buffer (O(width)); libpng's non-fatal warnings are ignored.
absl::StatusOr<PngInfo> DecodePng(absl::string_view bytes, int64_t max_pixels);

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_PNG_H_
