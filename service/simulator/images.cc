// PNG rendering with libpng into memory, and URL signing/verification for the image endpoint.
#include "service/simulator/images.h"

#include <png.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace qwenimage::simulator {
namespace {

void AppendToString(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<char*>(data), length);
}

constexpr absl::string_view kPathPrefix = "/images/";

// splitmix64's finaliser: FNV keys of similar prompts differ in few bits; this spreads them.
uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t Fnv1a64(absl::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t ImageKey(absl::string_view prompt, int64_t seed, int index) {
  return Fnv1a64(absl::StrCat(seed, "/", index), Fnv1a64(prompt));
}

std::string RenderPng(int width, int height, uint64_t key, absl::string_view inputs) {
  key = Mix64(key);
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::vector<png_byte> row(static_cast<size_t>(width) * 3);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return std::string();
  }
  png_set_write_fn(png, &out, &AppendToString, nullptr);
  png_set_compression_level(png, 1);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  std::string keyword = kInputsTextKeyword;
  std::string text(inputs);
  png_text chunk{};
  if (!text.empty()) {
    chunk.compression = PNG_TEXT_COMPRESSION_NONE;
    chunk.key = keyword.data();
    chunk.text = text.data();
    chunk.text_length = text.size();
    png_set_text(png, info, &chunk, 1);
  }
  png_write_info(png, info);
  // Two diagonal gradients and a checker whose colours and periods come from the key.
  const unsigned base_r = key & 0xff, base_g = (key >> 8) & 0xff, base_b = (key >> 16) & 0xff;
  const int cell = 16 + static_cast<int>((key >> 24) % 112);
  for (int y = 0; y < height; ++y) {
    const unsigned gy = static_cast<unsigned>(y) * 255 / height;
    for (int x = 0; x < width; ++x) {
      const unsigned gx = static_cast<unsigned>(x) * 255 / width;
      const unsigned checker = ((x / cell) ^ (y / cell)) & 1 ? 48 : 0;
      row[3 * x] = static_cast<png_byte>(base_r + gx + checker);
      row[3 * x + 1] = static_cast<png_byte>(base_g + gy);
      row[3 * x + 2] = static_cast<png_byte>(base_b + ((gx + gy) >> 1) + checker);
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::string ImageUrls::Sign(absl::string_view path, int64_t expires) const {
  return absl::StrFormat("%016x", Fnv1a64(absl::StrCat(path, "?", expires), secret_));
}

std::string ImageUrls::Make(const ImageRef& ref, absl::Time expires) const {
  // An edit's inputs ride in the (signed) path: /images/WxH/KEY/SHA,SHA.png.
  std::string path =
      ref.inputs.empty()
          ? absl::StrFormat("%s%dx%d/%016x.png", kPathPrefix, ref.width, ref.height, ref.key)
          : absl::StrFormat("%s%dx%d/%016x/%s.png", kPathPrefix, ref.width, ref.height, ref.key,
                            ref.inputs);
  int64_t exp = absl::ToUnixSeconds(absl::Ceil(expires - absl::UnixEpoch(), absl::Seconds(1)) +
                                    absl::UnixEpoch());
  return absl::StrCat(origin_, path, "?Expires=", exp, "&OSSAccessKeyId=sim&Signature=",
                      Sign(path, exp));
}

ImageUrls::Check ImageUrls::Verify(absl::string_view path, absl::string_view query,
                                   absl::Time now, ImageRef* out) const {
  if (!absl::ConsumePrefix(&path, kPathPrefix)) return Check::kNotFound;
  std::string full_path = absl::StrCat(kPathPrefix, path);
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if ((parts.size() != 2 && parts.size() != 3) || !absl::ConsumeSuffix(&parts.back(), ".png")) {
    return Check::kNotFound;
  }
  if (parts.size() == 3) {
    out->inputs = std::string(parts[2]);
    const bool hex = std::all_of(out->inputs.begin(), out->inputs.end(), [](char c) {
      return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ',';
    });
    if (out->inputs.empty() || !hex) return Check::kNotFound;
  }
  std::pair<absl::string_view, absl::string_view> wh = absl::StrSplit(parts[0], 'x');
  if (!absl::SimpleAtoi(wh.first, &out->width) || !absl::SimpleAtoi(wh.second, &out->height) ||
      !absl::SimpleHexAtoi(parts[1], &out->key) || out->width <= 0 || out->height <= 0 ||
      int64_t{out->width} * out->height > 4096 * 4096) {
    return Check::kNotFound;
  }
  int64_t expires = -1;
  std::string signature;
  for (absl::string_view kv : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == "Expires" && !absl::SimpleAtoi(p.second, &expires)) return Check::kBadSignature;
    if (p.first == "Signature") signature = std::string(p.second);
  }
  if (expires < 0 || signature != Sign(full_path, expires)) return Check::kBadSignature;
  if (now >= absl::FromUnixSeconds(expires)) return Check::kExpired;
  return Check::kOk;
}

}  // namespace qwenimage::simulator
