// ReadImageHeader (service/common/image_format.h) on arbitrary bytes, as a caller's upload
// reaches it: INVALID_ARGUMENT or sides > 0; the format agrees with the first bytes; every
// shorter prefix of an accepted input is refused unless it reads the same (only bytes past the
// header may go); the MIME helpers round-trip the format found.
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"
#include "service/common/image_format.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  if (!header.ok()) {
    FUZZ_CHECK(header.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!header.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(header->width > 0 && header->height > 0);
  switch (header->format) {
    case ImageFormat::kPng: FUZZ_CHECK(absl::StartsWith(bytes, "\x89PNG")); break;
    case ImageFormat::kJpeg: FUZZ_CHECK(absl::StartsWith(bytes, "\xFF\xD8")); break;
    case ImageFormat::kBmp: FUZZ_CHECK(absl::StartsWith(bytes, "BM")); break;
    case ImageFormat::kTiff:
      FUZZ_CHECK(absl::StartsWith(bytes, "II") || absl::StartsWith(bytes, "MM"));
      break;
    case ImageFormat::kWebp: FUZZ_CHECK(absl::StartsWith(bytes, "RIFF")); break;
    case ImageFormat::kGif: FUZZ_CHECK(absl::StartsWith(bytes, "GIF8")); break;
  }
  const std::optional<ImageFormat> back = FormatFromMimeType(MimeType(header->format));
  FUZZ_CHECK(back.has_value() && *back == header->format);

  // Dropping the last byte either leaves the header whole (the same answer) or cuts it short.
  absl::StatusOr<ImageHeader> shorter = ReadImageHeader(bytes.substr(0, size - 1));
  if (shorter.ok()) {
    FUZZ_CHECK(shorter->format == header->format && shorter->width == header->width &&
               shorter->height == header->height);
  }
  return 0;
}

}  // namespace qwenimage::fuzz
