// Image headers: the format of an image sniffed from its magic bytes (never from a name or a
// declared type) and its dimensions read from the header, without decoding any pixel data. The
// formats DashScope accepts as edit inputs (dashscope-api.md §9): JPEG, PNG, BMP, TIFF, WEBP, GIF.
#ifndef QWENIMAGE_SERVICE_COMMON_IMAGE_FORMAT_H_
#define QWENIMAGE_SERVICE_COMMON_IMAGE_FORMAT_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage {

enum class ImageFormat { kJpeg, kPng, kBmp, kTiff, kWebp, kGif };

struct ImageHeader {
  ImageFormat format = ImageFormat::kPng;
  int width = 0;   // pixels, > 0
  int height = 0;  // pixels, > 0
};

// The format from the first bytes and the dimensions from the header: PNG IHDR; JPEG's first
// SOFn marker (segments walked, fill bytes and standalone markers skipped); BMP's
// BITMAPINFOHEADER (or the OS/2 core header; a negative height is top-down); TIFF's first IFD
// (both byte orders, tags 256/257 as SHORT or LONG); WEBP's VP8, VP8L or VP8X chunk; GIF's
// logical screen. INVALID_ARGUMENT, naming the problem, for bytes of no supported format, a header
// cut short, or a width or height of 0. Reads at most the bytes it needs; never allocates in
// proportion to the input.
// "Cut short" means the structure holding the dimensions is not wholly there: PNG's IHDR chunk
// (CRC included, not checked), JPEG's SOF segment, BMP's first 14 + 12 or 14 + 40 bytes, TIFF's
// whole first IFD (entries and next-IFD offset), WEBP's fields in its first chunk, GIF's logical
// screen descriptor. Bytes between JPEG segments that are not a marker are skipped, as libjpeg
// and Pillow do. Error messages describe the problem for a caller's field (FieldError's
// "<field>: <message>") and never repeat any of the input's bytes.
absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes);

// "image/jpeg", "image/png", "image/bmp", "image/tiff", "image/webp", "image/gif".
absl::string_view MimeType(ImageFormat format);
// "JPEG", "PNG", ...
absl::string_view FormatName(ImageFormat format);
// The format of a MIME type (ASCII case-insensitive; "image/jpg" too); nullopt for any other.
// Parameters after a ';' and whitespace around the type are ignored ("image/png; charset=x").
std::optional<ImageFormat> FormatFromMimeType(absl::string_view mime_type);

}  // namespace qwenimage

#endif  // QWENIMAGE_SERVICE_COMMON_IMAGE_FORMAT_H_
