#include "service/common/png.h"

#include <png.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage {
namespace {

using ::testing::HasSubstr;

// Encodes a width x height image of `color_type` (8-bit) with libpng, into memory.
std::string EncodePng(int width, int height, int color_type = PNG_COLOR_TYPE_RGB,
                      bool interlaced = false, bool with_text = false) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    ADD_FAILURE() << "libpng write failed";
    png_destroy_write_struct(&png, &info);
    return "";
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(data), n);
      },
      [](png_structp) {});
  png_set_IHDR(png, info, width, height, 8, color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_color palette[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_PLTE(png, info, palette, 4);
  png_text text;
  if (with_text) {
    std::memset(&text, 0, sizeof(text));
    text.compression = PNG_TEXT_COMPRESSION_NONE;
    text.key = const_cast<char*>("Comment");
    text.text = const_cast<char*>("made by a test");
    png_set_text(png, info, &text, 1);
  }
  png_write_info(png, info);
  const int channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  std::string row(static_cast<size_t>(width) * channels, '\0');
  const int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < height; ++y) {
      for (size_t x = 0; x < row.size(); ++x) {
        row[x] = static_cast<char>(color_type == PNG_COLOR_TYPE_PALETTE ? (x + y) % 4 : x * 7 + y);
      }
      png_write_row(png, reinterpret_cast<png_bytep>(row.data()));
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// Byte offset of the first chunk of `type` (its length field).
size_t FindChunk(const std::string& png, absl::string_view type) {
  size_t at = 8;
  while (at + 8 <= png.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at);
    const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                            (uint32_t{p[2]} << 8) | p[3];
    if (absl::string_view(png.data() + at + 4, 4) == type) return at;
    at += 12 + length;
  }
  ADD_FAILURE() << "no " << type << " chunk";
  return 0;
}

void RewriteCrc(std::string& png, size_t chunk) {
  const auto* p = reinterpret_cast<const unsigned char*>(png.data() + chunk);
  const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | p[3];
  const uint32_t crc =
      crc32(0, reinterpret_cast<const Bytef*>(png.data() + chunk + 4), length + 4);
  for (int i = 0; i < 4; ++i) png[chunk + 8 + length + i] = static_cast<char>(crc >> (24 - 8 * i));
}

constexpr int64_t kNoLimit = int64_t{1} << 40;

TEST(DecodePngTest, ValidImagesOfEveryKind) {
  struct Case {
    int width, height, color_type;
    bool interlaced;
  };
  for (const Case& c : {Case{64, 48, PNG_COLOR_TYPE_RGB, false}, Case{1, 1, PNG_COLOR_TYPE_RGB, false},
                        Case{33, 17, PNG_COLOR_TYPE_RGBA, false},
                        Case{20, 9, PNG_COLOR_TYPE_GRAY, false},
                        Case{13, 11, PNG_COLOR_TYPE_PALETTE, false},
                        Case{37, 29, PNG_COLOR_TYPE_RGB, true}}) {
    const std::string png = EncodePng(c.width, c.height, c.color_type, c.interlaced);
    absl::StatusOr<PngInfo> info = DecodePng(png, kNoLimit);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->width, c.width);
    EXPECT_EQ(info->height, c.height);
    EXPECT_EQ(info->bit_depth, 8);
    EXPECT_EQ(info->color_type, c.color_type);
    EXPECT_EQ(info->interlaced, c.interlaced);
  }
}

TEST(DecodePngTest, BadSignature) {
  std::string png = EncodePng(4, 4);
  for (std::string bad : {std::string(""), std::string("\x89PNG"), std::string("GIF89a..."),
                          "x" + png.substr(1)}) {
    absl::StatusOr<PngInfo> info = DecodePng(bad, kNoLimit);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(info.status().message(), HasSubstr("signature"));
  }
}

// Every proper prefix fails: inside the signature, IHDR, IDAT, and with IEND missing entirely.
TEST(DecodePngTest, TruncatedAnywhereFails) {
  const std::string png = EncodePng(40, 30, PNG_COLOR_TYPE_RGB, /*interlaced=*/false,
                                    /*with_text=*/true);
  for (size_t cut = 0; cut < png.size(); ++cut) {
    absl::StatusOr<PngInfo> info = DecodePng(absl::string_view(png).substr(0, cut), kNoLimit);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << "cut at " << cut;
  }
  // Without the IEND chunk: the image data is complete, the stream is not.
  const size_t iend = FindChunk(png, "IEND");
  absl::StatusOr<PngInfo> info = DecodePng(absl::string_view(png).substr(0, iend), kNoLimit);
  EXPECT_THAT(info.status().message(), HasSubstr("truncated"));
}

// libpng inflates IDAT as it reads and checks the CRC at the chunk's end, so a flipped data
// byte is reported by whichever check trips first; a flipped CRC byte is always a CRC error.
TEST(DecodePngTest, FlippedByteInImageDataIsACrcError) {
  const std::string original = EncodePng(64, 48);
  const size_t idat = FindChunk(original, "IDAT");
  const auto* p = reinterpret_cast<const unsigned char*>(original.data() + idat);
  const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | p[3];
  for (size_t at : {size_t{10}, size_t{length - 1}}) {
    std::string png = original;
    png[idat + 8 + at] ^= 0x01;
    absl::StatusOr<PngInfo> info = DecodePng(png, kNoLimit);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << at;
    EXPECT_THAT(info.status().message(), HasSubstr("IDAT")) << at;
  }
  std::string png = original;
  png[idat + 8 + length] ^= 0x01;  // the CRC field itself
  absl::StatusOr<PngInfo> info = DecodePng(png, kNoLimit);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(info.status().message(), HasSubstr("IDAT: CRC error"));
}

// With the CRC patched up, the damage is found by inflating (zlib, Adler-32), which a header-only
// check would never do.
TEST(DecodePngTest, CorruptImageDataWithValidCrcFailsToDecode) {
  const std::string original = EncodePng(64, 48);
  const size_t idat = FindChunk(original, "IDAT");
  const auto* p = reinterpret_cast<const unsigned char*>(original.data() + idat);
  const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | p[3];
  for (size_t at : {size_t{2}, size_t{length / 2}, size_t{length - 2}}) {
    std::string png = original;
    png[idat + 8 + at] ^= 0x5a;
    RewriteCrc(png, idat);
    EXPECT_EQ(DecodePng(png, kNoLimit).status().code(), absl::StatusCode::kInvalidArgument)
        << "byte " << at << " of " << length;
  }
}

TEST(DecodePngTest, CrcErrorInAncillaryChunkFails) {
  std::string png = EncodePng(8, 8, PNG_COLOR_TYPE_RGB, false, /*with_text=*/true);
  const size_t text = FindChunk(png, "tEXt");
  png[text + 8] ^= 0x20;  // libpng's default would drop the chunk with a warning
  EXPECT_THAT(DecodePng(png, kNoLimit).status().message(), HasSubstr("CRC"));
}

TEST(DecodePngTest, TrailingBytesAfterIendAreRefused) {
  const std::string png = EncodePng(8, 8);
  ASSERT_TRUE(DecodePng(png, kNoLimit).ok());
  for (const std::string& tail : {std::string(1, '\0'), std::string("<?php echo 1; ?>"), png}) {
    absl::StatusOr<PngInfo> info = DecodePng(png + tail, kNoLimit);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(info.status().message(), HasSubstr("after IEND"));
  }
}

TEST(DecodePngTest, MaxPixels) {
  const std::string png = EncodePng(30, 20);
  EXPECT_TRUE(DecodePng(png, 600).ok());
  absl::StatusOr<PngInfo> info = DecodePng(png, 599);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(info.status().message(), HasSubstr("30x20"));
}

// IHDR claims a huge image: refused from the header, before anything is allocated for it.
TEST(DecodePngTest, HugeDimensionsAreRefusedFromTheHeader) {
  std::string png = EncodePng(4, 4);
  const size_t ihdr = FindChunk(png, "IHDR");
  for (int i = 0; i < 4; ++i) {
    png[ihdr + 8 + i] = "\x7f\xff\xff\xff"[i];      // width 2^31-1
    png[ihdr + 8 + 4 + i] = "\x7f\xff\xff\xff"[i];  // height 2^31-1
  }
  RewriteCrc(png, ihdr);
  EXPECT_EQ(DecodePng(png, 64 << 20).status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace qwenimage
