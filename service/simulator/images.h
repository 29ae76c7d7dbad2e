// Simulated result images: deterministic PNGs rendered on download, and the signed, expiring
// OSS-style URLs that point at them (the URL carries everything needed to render the image).
#ifndef QWENIMAGE_SERVICE_SIMULATOR_IMAGES_H_
#define QWENIMAGE_SERVICE_SIMULATOR_IMAGES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::simulator {

// 64-bit FNV-1a: stable across runs and platforms (unlike std::hash), so images are reproducible.
uint64_t Fnv1a64(absl::string_view data, uint64_t h = 14695981039346656037ull);

// The pattern seed of image `index` of a request: a hash of (prompt, seed, index).
uint64_t ImageKey(absl::string_view prompt, int64_t seed, int index);

// An RGB PNG of width x height with a pattern derived from `key`; fast (compression level 1,
// no filtering) so that a 2048*2048 image renders in well under a second. With `inputs` (an
// edit's), a tEXt chunk "qwenimage-sim-inputs" carries them: the lowercase hex sha256 of each
// input image, comma-separated, in request order.
std::string RenderPng(int width, int height, uint64_t key, absl::string_view inputs = "");

inline constexpr char kInputsTextKeyword[] = "qwenimage-sim-inputs";

struct ImageRef {
  int width = 0;
  int height = 0;
  uint64_t key = 0;
  std::string inputs;  // an edit's input sha256s, comma-separated ("" for a generation)
};

class ImageUrls {
 public:
  // `origin` is "http://127.0.0.1:<port>"; `secret` keys the signatures.
  ImageUrls(std::string origin, uint64_t secret) : origin_(std::move(origin)), secret_(secret) {}

  std::string Make(const ImageRef& ref, absl::Time expires) const;

  enum class Check { kOk, kNotFound, kExpired, kBadSignature };
  // `path` is the request path ("/images/..."), `query` its raw query string.
  Check Verify(absl::string_view path, absl::string_view query, absl::Time now,
               ImageRef* out) const;

 private:
  std::string Sign(absl::string_view path, int64_t expires) const;

  std::string origin_;
  uint64_t secret_;
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_IMAGES_H_
