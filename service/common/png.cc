#include "service/common/png.h"

#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qwenimage {
namespace {

constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Everything the decode touches after setjmp lives here, in the caller's frame, so a longjmp
// leaves no local of the setjmp frame indeterminate and skips no destructor.
struct Decoder {
  absl::string_view bytes;
  size_t offset = 0;
  std::string error;  // libpng's reason, or ours
  bool too_large = false;
  std::vector<png_byte> row;  // one row, reused for every row of every pass
  PngInfo info;
};

void OnError(png_structp png, png_const_charp message) {
  static_cast<Decoder*>(png_get_error_ptr(png))->error = message;
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // non-fatal; not worth a log line per image

void OnRead(png_structp png, png_bytep out, size_t n) {
  auto* d = static_cast<Decoder*>(png_get_io_ptr(png));
  if (d->bytes.size() - d->offset < n) png_error(png, "truncated PNG data");
  std::memcpy(out, d->bytes.data() + d->offset, n);
  d->offset += n;
}

// False with d->error (or d->too_large) set on failure.
bool Decode(png_structp png, png_infop info, Decoder* d, int64_t max_pixels) {
  if (setjmp(png_jmpbuf(png))) return false;
  // Critical chunks already fail on a bad CRC; ancillary ones would only be dropped.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  // max_pixels is the limit that matters; libpng's own default caps each side at 1e6.
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_set_read_fn(png, d, &OnRead);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr,
               nullptr);
  const int64_t pixels = static_cast<int64_t>(width) * static_cast<int64_t>(height);
  if (pixels > max_pixels) {
    d->too_large = true;
    d->error = absl::StrCat("PNG is ", width, "x", height, " = ", pixels,
                            " pixels, over the limit of ", max_pixels);
    return false;
  }
  d->info.width = static_cast<int>(width);
  d->info.height = static_cast<int>(height);
  d->info.bit_depth = bit_depth;
  d->info.color_type = color_type;
  d->info.interlaced = interlace != PNG_INTERLACE_NONE;

  // Interlaced images are decoded pass by pass into the same row; the pixels are discarded, it
  // is the inflating and unfiltering of every byte that proves the data intact.
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  d->row.resize(png_get_rowbytes(png, info));
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, d->row.data(), nullptr);
  }
  // Reads (and CRC-checks) everything after the image data up to IEND; running out of bytes
  // first fails in OnRead.
  png_read_end(png, info);
  if (d->offset != d->bytes.size()) {
    d->error = absl::StrCat(d->bytes.size() - d->offset, " bytes after IEND");
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PngInfo> DecodePng(absl::string_view bytes, int64_t max_pixels) {
  if (bytes.size() < sizeof(kSignature) ||
      std::memcmp(bytes.data(), kSignature, sizeof(kSignature)) != 0) {
    return absl::InvalidArgumentError("not a PNG image (bad signature)");
  }
  Decoder d;
  d.bytes = bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, &OnError, &OnWarning);
  if (png == nullptr) return absl::ResourceExhaustedError("png_create_read_struct failed");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::ResourceExhaustedError("png_create_info_struct failed");
  }
  const bool ok = Decode(png, info, &d, max_pixels);
  png_destroy_read_struct(&png, &info, nullptr);
  if (d.too_large) return absl::ResourceExhaustedError(d.error);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("invalid PNG image: ", d.error));
  return d.info;
}

}  // namespace qwenimage
