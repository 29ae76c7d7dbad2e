// ReadImageHeader and the MIME helpers. Every read is checked against the input's size before it
// is made; the only loops (JPEG segments, TIFF entries) advance at least one byte per turn and
// keep no state that grows with the input. Bytes are read as unsigned and widened before shifts.
#include "service/common/image_format.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace qwenimage {
namespace {

constexpr uint64_t kMaxSide = 0x7FFFFFFF;  // ImageHeader's int; PNG's own limit too

// True if `n` bytes from `at` are within `b`.
bool Has(absl::string_view b, size_t at, size_t n) {
  return at <= b.size() && n <= b.size() - at;
}

// Unsigned reads at `at`; the caller has checked with Has() that the bytes are there.
uint32_t U8(absl::string_view b, size_t at) { return static_cast<unsigned char>(b[at]); }
uint32_t Be16(absl::string_view b, size_t at) { return U8(b, at) << 8 | U8(b, at + 1); }
uint32_t Be32(absl::string_view b, size_t at) { return Be16(b, at) << 16 | Be16(b, at + 2); }
uint32_t Le16(absl::string_view b, size_t at) { return U8(b, at + 1) << 8 | U8(b, at); }
uint32_t Le24(absl::string_view b, size_t at) { return U8(b, at + 2) << 16 | Le16(b, at); }
uint32_t Le32(absl::string_view b, size_t at) { return Le16(b, at + 2) << 16 | Le16(b, at); }

// A little-endian two's-complement int32, without a narrowing conversion.
int64_t Le32Signed(absl::string_view b, size_t at) {
  const uint32_t u = Le32(b, at);
  return u < 0x80000000u ? int64_t{u} : int64_t{u} - (int64_t{1} << 32);
}

absl::Status CutShort(absl::string_view format) {
  return absl::InvalidArgumentError(absl::StrCat(format, " header is cut short"));
}

absl::StatusOr<ImageHeader> Dimensions(ImageFormat format, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("is a ", FormatName(format), " with a width or height of 0"));
  }
  if (width > kMaxSide || height > kMaxSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("is a ", FormatName(format), " with a width or height over 2^31-1"));
  }
  ImageHeader header;
  header.format = format;
  header.width = static_cast<int>(width);
  header.height = static_cast<int>(height);
  return header;
}

// Signature (8), then IHDR: length 13, type, width, height, 5 more bytes, CRC.
absl::StatusOr<ImageHeader> ReadPng(absl::string_view b) {
  if (!Has(b, 8, 8)) return CutShort("PNG");
  if (Be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
    return absl::InvalidArgumentError("PNG does not start with an IHDR chunk");
  }
  if (!Has(b, 8, 8 + 13 + 4)) return CutShort("PNG");
  return Dimensions(ImageFormat::kPng, Be32(b, 16), Be32(b, 20));
}

// SOI, then segments up to the first frame header (SOFn). Each marker is 0xFF, any number of
// fill 0xFFs, and a code; all but the standalone ones are followed by a length that counts
// itself.
absl::StatusOr<ImageHeader> ReadJpeg(absl::string_view b) {
  size_t at = 2;
  while (true) {
    while (at < b.size() && U8(b, at) != 0xFF) ++at;  // not a marker: skipped
    while (at < b.size() && U8(b, at) == 0xFF) ++at;  // the marker's 0xFF and fill bytes
    if (at >= b.size()) return CutShort("JPEG");
    const uint32_t marker = U8(b, at++);
    if (marker == 0x00) continue;  // a stuffed 0xFF of entropy-coded data, not a marker
    if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) {
      return absl::InvalidArgumentError("JPEG ends (EOI) before its frame header (SOF)");
    }
    if (marker == 0xDA) {
      return absl::InvalidArgumentError("JPEG image data (SOS) starts before its frame header (SOF)");
    }
    if (!Has(b, at, 2)) return CutShort("JPEG");
    const size_t length = Be16(b, at);
    if (length < 2) return absl::InvalidArgumentError("JPEG has a segment length under 2");
    if (!Has(b, at, length)) {
      return absl::InvalidArgumentError("JPEG header is cut short (a segment runs past the end)");
    }
    // C4 (DHT), C8 (JPG) and CC (DAC) share the SOFn range without being frame headers.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      // length, precision, height, width, component count.
      if (length < 8) return absl::InvalidArgumentError("JPEG frame header (SOF) is too short");
      return Dimensions(ImageFormat::kJpeg, Be16(b, at + 5), Be16(b, at + 3));
    }
    at += length;
  }
}

// "BM", file size, reserved, pixel offset (14 bytes), then the DIB header, whose size comes first.
absl::StatusOr<ImageHeader> ReadBmp(absl::string_view b) {
  if (!Has(b, 14, 4)) return CutShort("BMP");
  const uint32_t dib_size = Le32(b, 14);
  if (dib_size == 12) {  // OS/2 BITMAPCOREHEADER: unsigned 16-bit sides
    if (!Has(b, 14, 12)) return CutShort("BMP");
    return Dimensions(ImageFormat::kBmp, Le16(b, 18), Le16(b, 20));
  }
  if (dib_size < 40) {
    return absl::InvalidArgumentError("BMP has a DIB header of an unsupported size");
  }
  if (!Has(b, 14, 40)) return CutShort("BMP");  // BITMAPINFOHEADER and its successors
  const int64_t width = Le32Signed(b, 18);
  const int64_t height = Le32Signed(b, 22);  // negative: rows top-down
  if (width < 0) return absl::InvalidArgumentError("BMP has a negative width");
  if (height == INT32_MIN) return absl::InvalidArgumentError("BMP height is out of range");
  return Dimensions(ImageFormat::kBmp, static_cast<uint64_t>(width),
                    static_cast<uint64_t>(height < 0 ? -height : height));
}

// Byte order, 42, the first IFD's offset; the IFD is an entry count, 12-byte entries (tag, type,
// count, value or offset) and the next IFD's offset.
absl::StatusOr<ImageHeader> ReadTiff(absl::string_view b) {
  const bool big_endian = b[0] == 'M';
  const auto u16 = [&](size_t at) { return big_endian ? Be16(b, at) : Le16(b, at); };
  const auto u32 = [&](size_t at) { return big_endian ? Be32(b, at) : Le32(b, at); };
  if (!Has(b, 4, 4)) return CutShort("TIFF");
  const size_t ifd = u32(4);
  if (ifd < 8) return absl::InvalidArgumentError("TIFF first IFD offset points into its header");
  if (!Has(b, ifd, 2)) return CutShort("TIFF");
  const size_t entries = u16(ifd);
  if (entries > (b.size() - ifd - 2) / 12 || !Has(b, ifd + 2 + 12 * entries, 4)) {
    return CutShort("TIFF");
  }
  uint64_t sides[2] = {0, 0};  // ImageWidth (256), ImageLength (257)
  bool found[2] = {false, false};
  for (size_t i = 0; i < entries; ++i) {
    const size_t entry = ifd + 2 + 12 * i;
    const uint32_t tag = u16(entry);
    if (tag != 256 && tag != 257) continue;
    const size_t side = tag - 256;
    if (found[side]) continue;  // the first one counts
    const uint32_t type = u16(entry + 2);
    if ((type != 3 && type != 4) || u32(entry + 4) != 1) {
      return absl::InvalidArgumentError(
          "TIFF ImageWidth or ImageLength is not a single SHORT or LONG");
    }
    // A SHORT sits in the first two bytes of the value field, in either byte order.
    sides[side] = type == 3 ? u16(entry + 8) : u32(entry + 8);
    found[side] = true;
  }
  if (!found[0] || !found[1]) {
    return absl::InvalidArgumentError("TIFF first IFD has no ImageWidth or ImageLength");
  }
  return Dimensions(ImageFormat::kTiff, sides[0], sides[1]);
}

// "RIFF", size, "WEBP", then the first chunk: FourCC, size, payload at 20.
absl::StatusOr<ImageHeader> ReadWebp(absl::string_view b) {
  constexpr size_t kPayload = 20;
  if (!Has(b, 12, 8)) return CutShort("WEBP");
  const absl::string_view fourcc = b.substr(12, 4);
  const uint32_t chunk_size = Le32(b, 16);
  if (fourcc == "VP8 ") {  // lossy: frame tag (3), start code (3), 14-bit sides + 2-bit scales
    if (chunk_size < 10) return absl::InvalidArgumentError("WEBP VP8 chunk is too short");
    if (!Has(b, kPayload, 10)) return CutShort("WEBP");
    if ((U8(b, kPayload) & 1) != 0) {
      return absl::InvalidArgumentError("WEBP VP8 frame is not a key frame");
    }
    if (b.substr(kPayload + 3, 3) != "\x9D\x01\x2A") {
      return absl::InvalidArgumentError("WEBP VP8 frame has no start code");
    }
    return Dimensions(ImageFormat::kWebp, Le16(b, kPayload + 6) & 0x3FFF,
                      Le16(b, kPayload + 8) & 0x3FFF);
  }
  if (fourcc == "VP8L") {  // lossless: 0x2F, then 14 bits width-1, 14 height-1, alpha, version
    if (chunk_size < 5) return absl::InvalidArgumentError("WEBP VP8L chunk is too short");
    if (!Has(b, kPayload, 5)) return CutShort("WEBP");
    if (U8(b, kPayload) != 0x2F) {
      return absl::InvalidArgumentError("WEBP VP8L chunk has no signature");
    }
    const uint32_t bits = Le32(b, kPayload + 1);
    if ((bits >> 29) != 0) return absl::InvalidArgumentError("WEBP VP8L has an unknown version");
    return Dimensions(ImageFormat::kWebp, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (fourcc == "VP8X") {  // extended: flags (1), reserved (3), canvas width-1, height-1 (24 bits)
    if (chunk_size < 10) return absl::InvalidArgumentError("WEBP VP8X chunk is too short");
    if (!Has(b, kPayload, 10)) return CutShort("WEBP");
    return Dimensions(ImageFormat::kWebp, uint64_t{Le24(b, kPayload + 4)} + 1,
                      uint64_t{Le24(b, kPayload + 7)} + 1);
  }
  return absl::InvalidArgumentError("WEBP does not start with a VP8, VP8L or VP8X chunk");
}

// "GIF87a" or "GIF89a", then the logical screen descriptor: width, height, flags, background,
// aspect ratio.
absl::StatusOr<ImageHeader> ReadGif(absl::string_view b) {
  if (!Has(b, 6, 7)) return CutShort("GIF");
  return Dimensions(ImageFormat::kGif, Le16(b, 6), Le16(b, 8));
}

}  // namespace

absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("is empty");
  if (absl::StartsWith(bytes, "\x89PNG\r\n\x1A\n")) return ReadPng(bytes);
  if (absl::StartsWith(bytes, "\xFF\xD8")) return ReadJpeg(bytes);
  if (absl::StartsWith(bytes, "BM")) return ReadBmp(bytes);
  if (absl::StartsWith(bytes, absl::string_view("II*\0", 4)) ||
      absl::StartsWith(bytes, absl::string_view("MM\0*", 4))) {
    return ReadTiff(bytes);
  }
  if (absl::StartsWith(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") {
    return ReadWebp(bytes);
  }
  if (absl::StartsWith(bytes, "GIF87a") || absl::StartsWith(bytes, "GIF89a")) {
    return ReadGif(bytes);
  }
  return absl::InvalidArgumentError(
      "is not a JPEG, PNG, BMP, TIFF, WEBP or GIF image (unrecognised first bytes)");
}

absl::string_view MimeType(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "image/jpeg";
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kBmp: return "image/bmp";
    case ImageFormat::kTiff: return "image/tiff";
    case ImageFormat::kWebp: return "image/webp";
    case ImageFormat::kGif: return "image/gif";
  }
  return "application/octet-stream";
}

absl::string_view FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kWebp: return "WEBP";
    case ImageFormat::kGif: return "GIF";
  }
  return "unknown";
}

std::optional<ImageFormat> FormatFromMimeType(absl::string_view mime_type) {
  const size_t semicolon = mime_type.find(';');
  if (semicolon != absl::string_view::npos) mime_type = mime_type.substr(0, semicolon);
  mime_type = absl::StripAsciiWhitespace(mime_type);
  if (absl::EqualsIgnoreCase(mime_type, "image/jpg")) return ImageFormat::kJpeg;
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kBmp,
                             ImageFormat::kTiff, ImageFormat::kWebp, ImageFormat::kGif}) {
    if (absl::EqualsIgnoreCase(mime_type, MimeType(format))) return format;
  }
  return std::nullopt;
}

}  // namespace qwenimage
