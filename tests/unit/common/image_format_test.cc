// ReadImageHeader and the MIME helpers (service/common/image_format.h), on headers built byte by
// byte here: every format's layout, the JPEG segment walk, both TIFF byte orders, the three WEBP
// chunks, and every prefix of every valid sample refused.
#include "service/common/image_format.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/png.h"

namespace qwenimage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

// ----- byte builders -----

std::string Be16(uint32_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Be32(uint32_t v) { return Be16(v >> 16) + Be16(v & 0xFFFF); }
std::string Le16(uint32_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string Le24(uint32_t v) { return Le16(v & 0xFFFF) + static_cast<char>(v >> 16); }
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }
std::string Zeros(size_t n) { return std::string(n, '\0'); }

// Signature and IHDR (8-bit RGB); the CRC is not checked, so it is left zero.
std::string Png(uint32_t width, uint32_t height) {
  return absl::StrCat("\x89PNG\r\n\x1A\n", Be32(13), "IHDR", Be32(width), Be32(height),
                      absl::string_view("\x08\x02\0\0\0", 5), Zeros(4));
}

// A marker segment: FF, the code, a length that counts itself, the payload.
std::string Segment(uint8_t marker, absl::string_view payload) {
  return absl::StrCat("\xFF", std::string(1, static_cast<char>(marker)),
                      Be16(payload.size() + 2), payload);
}

// A frame header with three components: precision 8, height, width.
std::string Sof(uint8_t marker, uint32_t width, uint32_t height) {
  return Segment(marker, absl::StrCat("\x08", Be16(height), Be16(width), "\x03",
                                      absl::string_view("\x01\x22\0\x02\x11\x01\x03\x11\x01", 9)));
}

std::string App0() { return Segment(0xE0, absl::string_view("JFIF\0\x01\x02\0\0\x01\0\x01\0\0", 14)); }

// SOI, APP0, then a baseline frame header.
std::string Jpeg(uint32_t width, uint32_t height) {
  return absl::StrCat("\xFF\xD8", App0(), Sof(0xC0, width, height));
}

// File header and a BITMAPINFOHEADER (24 bits); `dib_size` > 40 stands for V4/V5 headers,
// of which only the first 40 bytes are written.
std::string Bmp(int32_t width, int32_t height, uint32_t dib_size = 40) {
  return absl::StrCat("BM", Le32(54), Le32(0), Le32(54), Le32(dib_size),
                      Le32(static_cast<uint32_t>(width)), Le32(static_cast<uint32_t>(height)),
                      Le16(1), Le16(24), Zeros(24));
}

// File header and an OS/2 BITMAPCOREHEADER.
std::string BmpCore(uint32_t width, uint32_t height) {
  return absl::StrCat("BM", Le32(26), Le32(0), Le32(26), Le32(12), Le16(width), Le16(height),
                      Le16(1), Le16(24));
}

struct TiffEntry {
  uint32_t tag;
  uint32_t type;  // 3 SHORT, 4 LONG
  uint32_t count;
  uint32_t value;
};

// A TIFF header and its first IFD at `ifd_offset` (the gap filled with zeros, as pixel data would
// be), its entries in the order given, and a next-IFD offset of 0.
std::string Tiff(bool big_endian, const std::vector<TiffEntry>& entries, uint32_t ifd_offset = 8) {
  const auto u16 = [&](uint32_t v) { return big_endian ? Be16(v) : Le16(v); };
  const auto u32 = [&](uint32_t v) { return big_endian ? Be32(v) : Le32(v); };
  std::string out = big_endian ? std::string("MM\0*", 4) : std::string("II*\0", 4);
  out += u32(ifd_offset);
  out += Zeros(ifd_offset - 8);
  out += u16(entries.size());
  for (const TiffEntry& e : entries) {
    out += u16(e.tag) + u16(e.type) + u32(e.count);
    // A SHORT is left-justified in the value field; its padding is set to catch a LONG read.
    out += e.type == 3 ? u16(e.value) + std::string("\x5A\xA5", 2) : u32(e.value);
  }
  out += u32(0);
  return out;
}

std::string Tiff(bool big_endian, uint32_t type, uint32_t width, uint32_t height) {
  return Tiff(big_endian, {{254, 4, 1, 0},  // NewSubfileType
                           {256, type, 1, width},
                           {257, type, 1, height},
                           {258, 3, 1, 8}});  // BitsPerSample
}

std::string Riff(absl::string_view fourcc, absl::string_view payload) {
  return absl::StrCat("RIFF", Le32(12 + payload.size()), "WEBP", fourcc, Le32(payload.size()),
                      payload);
}

// Lossy: a key frame's tag, the start code, then 14-bit sides whose top 2 bits (scale) are set
// to catch a missing mask.
std::string WebpVp8(uint32_t width, uint32_t height) {
  return Riff("VP8 ", absl::StrCat(absl::string_view("\x10\x02\0", 3), "\x9D\x01\x2A",
                                   Le16(width | 0xC000), Le16(height | 0x4000)));
}

// Lossless: the signature, then width-1 and height-1 in 14 bits each, alpha bit set, version 0.
std::string WebpVp8l(uint32_t width, uint32_t height) {
  return Riff("VP8L", absl::StrCat("\x2F", Le32((width - 1) | (height - 1) << 14 | 1u << 28)));
}

// Extended: flags, 3 reserved bytes, canvas width-1 and height-1 in 24 bits each.
std::string WebpVp8x(uint32_t width, uint32_t height) {
  return Riff("VP8X", absl::StrCat("\x10", Zeros(3), Le24(width - 1), Le24(height - 1)));
}

std::string Gif(absl::string_view version, uint32_t width, uint32_t height) {
  return absl::StrCat("GIF", version, Le16(width), Le16(height), absl::string_view("\xF7\0\0", 3));
}

// ----- checks -----

void ExpectHeader(const std::string& bytes, ImageFormat format, int width, int height) {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, format);
  EXPECT_EQ(header->width, width);
  EXPECT_EQ(header->height, height);
}

void ExpectError(const std::string& bytes, absl::string_view message) {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  ASSERT_FALSE(header.ok()) << "read as " << header->width << "x" << header->height;
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.status().message(), HasSubstr(message));
}

struct Sample {
  std::string name;
  std::string bytes;
  ImageFormat format;
  int width;
  int height;
};

// One valid sample of every layout, each with width != height.
std::vector<Sample> Samples() {
  return {
      {"png", Png(300, 200), ImageFormat::kPng, 300, 200},
      {"jpeg", Jpeg(640, 480), ImageFormat::kJpeg, 640, 480},
      {"bmp", Bmp(33, 17), ImageFormat::kBmp, 33, 17},
      {"bmp_core", BmpCore(31, 7), ImageFormat::kBmp, 31, 7},
      {"tiff_le_short", Tiff(false, 3, 320, 240), ImageFormat::kTiff, 320, 240},
      {"tiff_be_long", Tiff(true, 4, 70000, 3), ImageFormat::kTiff, 70000, 3},
      {"webp_vp8", WebpVp8(1000, 750), ImageFormat::kWebp, 1000, 750},
      {"webp_vp8l", WebpVp8l(16384, 5), ImageFormat::kWebp, 16384, 5},
      {"webp_vp8x", WebpVp8x(16777216, 9), ImageFormat::kWebp, 16777216, 9},
      {"gif", Gif("89a", 12, 34), ImageFormat::kGif, 12, 34},
  };
}

TEST(ImageFormatTest, ReadsEverySample) {
  for (const Sample& s : Samples()) {
    SCOPED_TRACE(s.name);
    ExpectHeader(s.bytes, s.format, s.width, s.height);
  }
}

TEST(ImageFormatTest, EveryPrefixOfEverySampleIsRefused) {
  for (const Sample& s : Samples()) {
    for (size_t n = 0; n < s.bytes.size(); ++n) {
      SCOPED_TRACE(absl::StrCat(s.name, " cut to ", n, " of ", s.bytes.size(), " bytes"));
      absl::StatusOr<ImageHeader> header = ReadImageHeader(absl::string_view(s.bytes).substr(0, n));
      ASSERT_FALSE(header.ok());
      EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(ImageFormatTest, CutShortOnceTheSignatureIsThereNamesTheFormat) {
  ExpectError(Png(3, 2).substr(0, 20), "PNG header is cut short");
  ExpectError(Bmp(3, 2).substr(0, 30), "BMP header is cut short");
  ExpectError(Tiff(false, 3, 3, 2).substr(0, 20), "TIFF header is cut short");
  ExpectError(WebpVp8x(3, 2).substr(0, 25), "WEBP header is cut short");
  ExpectError(Gif("87a", 3, 2).substr(0, 8), "GIF header is cut short");
  ExpectError(Jpeg(3, 2).substr(0, 25), "JPEG header is cut short");
}

// Every single byte of every sample set to 0x00, then 0xFF: a verdict each time, and
// dimensions > 0 whenever one is accepted.
TEST(ImageFormatTest, SurvivesEveryByteSetTo0x00Or0xFF) {
  for (const Sample& s : Samples()) {
    for (size_t i = 0; i < s.bytes.size(); ++i) {
      for (char value : {'\x00', '\xFF'}) {
        std::string bytes = s.bytes;
        bytes[i] = value;
        absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
        if (header.ok()) {
          EXPECT_GT(header->width, 0) << s.name << " byte " << i;
          EXPECT_GT(header->height, 0) << s.name << " byte " << i;
        } else {
          EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
        }
      }
    }
  }
}

TEST(ImageFormatTest, ZeroWidthOrHeightIsRefused) {
  for (const std::string& bytes :
       {Png(0, 5), Png(5, 0), Jpeg(0, 5), Jpeg(5, 0), Bmp(0, 5), Bmp(5, 0), BmpCore(0, 5),
        Tiff(false, 3, 0, 5), Tiff(true, 4, 5, 0), WebpVp8(0, 5), WebpVp8(5, 0), Gif("87a", 0, 5),
        Gif("89a", 5, 0)}) {
    ExpectError(bytes, "with a width or height of 0");
  }
}

TEST(ImageFormatTest, EmptyInputIsRefused) { ExpectError("", "is empty"); }

TEST(ImageFormatTest, UnknownBytesAreRefusedWithoutRepeatingThem) {
  const std::string expected =
      "is not a JPEG, PNG, BMP, TIFF, WEBP or GIF image (unrecognised first bytes)";
  for (const std::string& bytes :
       {std::string("hello world, not an image"), std::string("<svg xmlns=\"x\"/>"),
        Riff("VP8X", Zeros(10)).replace(8, 4, "WAVE"), std::string("\x89PNG\r\n\x1A", 7),
        std::string("II+\0", 4) /* BigTIFF */, std::string("GIF90a") + Zeros(10)}) {
    absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status(), absl::InvalidArgumentError(expected));
  }
}

// ----- PNG -----

TEST(ImageFormatTest, PngWithoutIhdrFirstIsRefused) {
  std::string bytes = Png(3, 2);
  bytes.replace(12, 4, "tEXt");
  ExpectError(bytes, "PNG does not start with an IHDR chunk");
  EXPECT_THAT(std::string(ReadImageHeader(bytes).status().message()), Not(HasSubstr("tEXt")));
  bytes = Png(3, 2);
  bytes[11] = 14;  // IHDR's length
  ExpectError(bytes, "PNG does not start with an IHDR chunk");
}

TEST(ImageFormatTest, PngSideOver2To31Minus1IsRefused) {
  ExpectHeader(Png(0x7FFFFFFF, 1), ImageFormat::kPng, 0x7FFFFFFF, 1);
  ExpectError(Png(0x80000000u, 1), "over 2^31-1");
  ExpectError(Png(1, 0xFFFFFFFFu), "over 2^31-1");
}

// A whole PNG (IDAT, IEND, real CRCs) that DecodePng proves intact: both read the same sides.
TEST(ImageFormatTest, CompletePngAgreesWithDecodePng) {
  static constexpr char kPng[] =
      "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x05\x00\x00\x00\x03"
      "\x08\x00\x00\x00\x00\x7e\x5d\x9a\x24\x00\x00\x00\x1a\x49\x44\x41\x54\x78\xda\x63\x60\xd0\x08\xa8"
      "\x58\xc0\xc0\x69\x18\xd9\xb8\x92\x41\xc8\x2a\xa9\x6b\x13\x00\x28\x35\x05\x38\x94\x0d\x78\x4f\x00"
      "\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
  const std::string bytes(kPng, sizeof(kPng) - 1);
  absl::StatusOr<PngInfo> decoded = DecodePng(bytes, 1 << 20);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectHeader(bytes, ImageFormat::kPng, decoded->width, decoded->height);
  ExpectHeader(bytes, ImageFormat::kPng, 5, 3);
}

// ----- JPEG -----

TEST(ImageFormatTest, JpegProgressiveAfterAppSegmentsAndFillBytes) {
  const std::string exif = Segment(0xE1, absl::StrCat(absl::string_view("Exif\0\0", 6), "MM",
                                                      Zeros(40)));
  const std::string dqt = Segment(0xDB, absl::StrCat(Zeros(1), std::string(64, '\x10')));
  const std::string bytes = absl::StrCat("\xFF\xD8", App0(), "\xFF\xFF\xFF", exif, dqt,
                                         "\xFF\xFF", Sof(0xC2, 1920, 1080));
  ExpectHeader(bytes, ImageFormat::kJpeg, 1920, 1080);
}

// DHT (C4), JPG (C8) and DAC (CC) lie in the SOF range; read as frames they would give 257x257.
TEST(ImageFormatTest, JpegSkipsDhtJpgAndDacSegments) {
  const std::string fake = absl::StrCat("\x08", Be16(257), Be16(257), "\x01\x01\x11", Zeros(1));
  const std::string bytes = absl::StrCat("\xFF\xD8", Segment(0xC4, fake), Segment(0xC8, fake),
                                         Segment(0xCC, fake), Sof(0xC1, 800, 600));
  ExpectHeader(bytes, ImageFormat::kJpeg, 800, 600);
}

TEST(ImageFormatTest, JpegEverySofMarkerIsAFrameHeader) {
  for (uint32_t marker : {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                          0xCE, 0xCF}) {
    SCOPED_TRACE(marker);
    ExpectHeader(absl::StrCat("\xFF\xD8", Sof(marker, 41, 29)), ImageFormat::kJpeg, 41, 29);
  }
}

TEST(ImageFormatTest, JpegStandaloneMarkersHaveNoLength) {
  // RST0, RST7, TEM and a second SOI, each followed straight by the next marker.
  const std::string bytes =
      absl::StrCat("\xFF\xD8\xFF\xD0\xFF\xD7\xFF\x01\xFF\xD8", App0(), Sof(0xC0, 64, 48));
  ExpectHeader(bytes, ImageFormat::kJpeg, 64, 48);
}

TEST(ImageFormatTest, JpegBytesBetweenSegmentsAreSkipped) {
  ExpectHeader(absl::StrCat("\xFF\xD8", App0(), "junk\xFF", std::string("\x00", 1),
                            Sof(0xC0, 10, 20)),
               ImageFormat::kJpeg, 10, 20);
}

TEST(ImageFormatTest, JpegSegmentRunningPastTheEndIsRefused) {
  // APP1 says 0x1000 bytes; 30 follow, then a frame header that must not be reached.
  const std::string bytes = absl::StrCat("\xFF\xD8\xFF\xE1", Be16(0x1000), Zeros(28),
                                         Sof(0xC0, 10, 10));
  ExpectError(bytes, "JPEG header is cut short (a segment runs past the end)");
}

TEST(ImageFormatTest, JpegImageDataOrEndBeforeAnyFrameHeaderIsRefused) {
  ExpectError(absl::StrCat("\xFF\xD8", App0(), Segment(0xDA, absl::string_view("\x01\x01\x00\x00\x3F\x00", 6)),
                           Sof(0xC0, 10, 10)),
              "JPEG image data (SOS) starts before its frame header (SOF)");
  ExpectError(absl::StrCat("\xFF\xD8", App0(), "\xFF\xD9", Sof(0xC0, 10, 10)),
              "JPEG ends (EOI) before its frame header (SOF)");
}

TEST(ImageFormatTest, JpegBadSegmentLengthsAreRefused) {
  ExpectError(absl::StrCat("\xFF\xD8\xFF\xE0", Be16(1), Sof(0xC0, 10, 10)),
              "JPEG has a segment length under 2");
  ExpectError(absl::StrCat("\xFF\xD8\xFF\xC0", Be16(7), "\x08", Be16(10), Be16(10)),
              "JPEG frame header (SOF) is too short");
}

// ----- BMP -----

TEST(ImageFormatTest, BmpNegativeHeightIsTopDown) {
  ExpectHeader(Bmp(640, -480), ImageFormat::kBmp, 640, 480);
  ExpectHeader(Bmp(1, INT32_MIN + 1), ImageFormat::kBmp, 1, 0x7FFFFFFF);
}

TEST(ImageFormatTest, BmpLaterInfoHeadersReadLikeBitmapInfoHeader) {
  ExpectHeader(Bmp(50, 60, 108), ImageFormat::kBmp, 50, 60);  // V4
  ExpectHeader(Bmp(50, 60, 124), ImageFormat::kBmp, 50, 60);  // V5
}

TEST(ImageFormatTest, BmpOutOfRangeFieldsAreRefused) {
  ExpectError(Bmp(10, INT32_MIN), "BMP height is out of range");
  ExpectError(Bmp(-10, 10), "BMP has a negative width");
  ExpectError(Bmp(10, 10, 20), "BMP has a DIB header of an unsupported size");
  ExpectError(Bmp(10, 10, 0), "BMP has a DIB header of an unsupported size");
}

// ----- TIFF -----

TEST(ImageFormatTest, TiffBothByteOrdersShortAndLong) {
  ExpectHeader(Tiff(false, 3, 320, 240), ImageFormat::kTiff, 320, 240);
  ExpectHeader(Tiff(false, 4, 100000, 7), ImageFormat::kTiff, 100000, 7);
  ExpectHeader(Tiff(true, 3, 320, 240), ImageFormat::kTiff, 320, 240);
  ExpectHeader(Tiff(true, 4, 100000, 7), ImageFormat::kTiff, 100000, 7);
  // Mixed types, in either order.
  ExpectHeader(Tiff(true, {{257, 4, 1, 9}, {256, 3, 1, 65535}}), ImageFormat::kTiff, 65535, 9);
}

TEST(ImageFormatTest, TiffIfdAfterThePixelData) {
  ExpectHeader(Tiff(false, {{256, 3, 1, 5}, {257, 3, 1, 6}}, 1000), ImageFormat::kTiff, 5, 6);
}

TEST(ImageFormatTest, TiffFirstTagOfEachKindCounts) {
  ExpectHeader(Tiff(false, {{256, 3, 1, 5}, {257, 3, 1, 6}, {256, 3, 1, 50}, {257, 3, 1, 60}}),
               ImageFormat::kTiff, 5, 6);
}

TEST(ImageFormatTest, TiffBadTagsAreRefused) {
  ExpectError(Tiff(false, {{256, 3, 1, 5}}), "TIFF first IFD has no ImageWidth or ImageLength");
  ExpectError(Tiff(true, {{257, 3, 1, 5}}), "TIFF first IFD has no ImageWidth or ImageLength");
  ExpectError(Tiff(false, {}), "TIFF first IFD has no ImageWidth or ImageLength");
  ExpectError(Tiff(false, {{256, 3, 2, 5}, {257, 3, 1, 5}}), "not a single SHORT or LONG");
  ExpectError(Tiff(true, {{256, 5, 1, 5}, {257, 3, 1, 5}}), "not a single SHORT or LONG");
  ExpectError(Tiff(false, {{256, 4, 1, 0x80000000u}, {257, 3, 1, 5}}), "over 2^31-1");
}

TEST(ImageFormatTest, TiffIfdBeyondTheBytesIsRefused) {
  std::string bytes = Tiff(false, 3, 10, 10);
  bytes.replace(8, 2, Le16(0xFFFF));  // 65535 entries declared, 4 present
  ExpectError(bytes, "TIFF header is cut short");
  bytes = Tiff(true, 3, 10, 10);
  bytes.replace(4, 4, Be32(0xFFFFFFF0u));
  ExpectError(bytes, "TIFF header is cut short");
  bytes.replace(4, 4, Be32(4));
  ExpectError(bytes, "TIFF first IFD offset points into its header");
}

// ----- WEBP -----

TEST(ImageFormatTest, WebpChunks) {
  ExpectHeader(WebpVp8(16383, 1), ImageFormat::kWebp, 16383, 1);
  ExpectHeader(WebpVp8l(1, 16384), ImageFormat::kWebp, 1, 16384);
  ExpectHeader(WebpVp8x(1, 2), ImageFormat::kWebp, 1, 2);
}

TEST(ImageFormatTest, WebpBadChunksAreRefused) {
  ExpectError(Riff("ALPH", Zeros(10)), "WEBP does not start with a VP8, VP8L or VP8X chunk");
  std::string bytes = WebpVp8(10, 20);
  bytes[20] |= 1;  // an interframe
  ExpectError(bytes, "WEBP VP8 frame is not a key frame");
  bytes = WebpVp8(10, 20);
  bytes[23] = 0;
  ExpectError(bytes, "WEBP VP8 frame has no start code");
  bytes = WebpVp8l(10, 20);
  bytes[20] = 0x2E;
  ExpectError(bytes, "WEBP VP8L chunk has no signature");
  bytes = WebpVp8l(10, 20);
  bytes[24] |= 0x20;  // version 1
  ExpectError(bytes, "WEBP VP8L has an unknown version");
  bytes = WebpVp8x(10, 20);
  bytes.replace(16, 4, Le32(9));
  ExpectError(bytes, "WEBP VP8X chunk is too short");
}

// ----- GIF -----

TEST(ImageFormatTest, GifBothVersions) {
  ExpectHeader(Gif("87a", 65535, 2), ImageFormat::kGif, 65535, 2);
  ExpectHeader(Gif("89a", 3, 65535), ImageFormat::kGif, 3, 65535);
}

// ----- MIME types -----

TEST(ImageFormatTest, MimeTypesAndNames) {
  const struct {
    ImageFormat format;
    absl::string_view mime;
    absl::string_view name;
  } kCases[] = {
      {ImageFormat::kJpeg, "image/jpeg", "JPEG"}, {ImageFormat::kPng, "image/png", "PNG"},
      {ImageFormat::kBmp, "image/bmp", "BMP"},    {ImageFormat::kTiff, "image/tiff", "TIFF"},
      {ImageFormat::kWebp, "image/webp", "WEBP"}, {ImageFormat::kGif, "image/gif", "GIF"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(MimeType(c.format), c.mime);
    EXPECT_EQ(FormatName(c.format), c.name);
    EXPECT_THAT(FormatFromMimeType(c.mime), Optional(c.format));
  }
}

TEST(ImageFormatTest, FormatFromMimeTypeIsCaseInsensitiveAndIgnoresParameters) {
  EXPECT_THAT(FormatFromMimeType("image/jpg"), Optional(ImageFormat::kJpeg));
  EXPECT_THAT(FormatFromMimeType("IMAGE/JPG"), Optional(ImageFormat::kJpeg));
  EXPECT_THAT(FormatFromMimeType("Image/WebP"), Optional(ImageFormat::kWebp));
  EXPECT_THAT(FormatFromMimeType("image/png;base64"), Optional(ImageFormat::kPng));
  EXPECT_THAT(FormatFromMimeType(" image/gif ; charset=binary"), Optional(ImageFormat::kGif));
}

TEST(ImageFormatTest, FormatFromMimeTypeRefusesOtherTypes) {
  for (absl::string_view mime : {"", "image", "image/", "image/svg+xml", "image/pngx", "png",
                                 "text/plain", "image/ png", "image/x-png", ";image/png"}) {
    EXPECT_FALSE(FormatFromMimeType(mime).has_value()) << mime;
  }
}

}  // namespace
}  // namespace qwenimage
