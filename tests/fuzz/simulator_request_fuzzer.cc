// The simulator's create-body parser (service/simulator/request.h) on arbitrary bodies for both
// endpoints: never throws, and what it accepts obeys the catalog it mimics (dashscope-api.md
// §3). Input: an endpoint byte, a random seed (8 bytes), then the body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/simulator/request.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace sim = simulator;

// Code points as TruncateChars counts them: bytes that are not UTF-8 continuation bytes.
size_t CountChars(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void CheckTruncated(const std::string& full, const std::string& kept, int max_chars) {
  FUZZ_CHECK(absl::StartsWith(full, kept));
  FUZZ_CHECK(CountChars(kept) <= static_cast<size_t>(max_chars));
  if (CountChars(full) <= static_cast<size_t>(max_chars)) FUZZ_CHECK(kept == full);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const auto endpoint =
      in.Byte() & 1 ? sim::CreateEndpoint::kImageSynthesis : sim::CreateEndpoint::kGeneration;
  const int64_t random_seed = static_cast<int64_t>(in.U64() % 2147483648u);
  const absl::string_view body = in.Rest();
  const int max_chars = static_cast<int>(body.size() % 7);
  CheckTruncated(std::string(body), sim::TruncateChars(body, max_chars), max_chars);

  sim::ImageRequest request;
  std::optional<sim::ApiError> error = sim::ParseImageRequest(body, endpoint, random_seed, &request);
  if (error.has_value()) {
    FUZZ_CHECK(error->http_status == 400 || error->http_status == 403);
    FUZZ_CHECK(!error->code.empty() && !error->message.empty());
    return 0;
  }
  FUZZ_CHECK(request.model != nullptr);
  FUZZ_CHECK(sim::FindModel(request.model->name) == request.model);
  if (endpoint == sim::CreateEndpoint::kImageSynthesis) FUZZ_CHECK(request.model->async);
  FUZZ_CHECK(!request.full_prompt.empty() && !request.prompt.empty());
  CheckTruncated(request.full_prompt, request.prompt, sim::kMaxPromptChars);
  FUZZ_CHECK(CountChars(request.negative_prompt) <= sim::kMaxNegativePromptChars);
  const sim::Family family = request.model->family;
  const int images = static_cast<int>(request.inputs.size());
  for (const sim::ImageRequest::Input& input : request.inputs) {
    // A data URI decoded within the cap, or a URL left to fetch (never fetched here).
    FUZZ_CHECK(input.url.empty() || input.bytes.empty());
    FUZZ_CHECK(static_cast<int64_t>(input.bytes.size()) <= sim::kMaxInputImageBytes);
  }
  if (family == sim::Family::kEditV1 || family == sim::Family::kEdit) {
    FUZZ_CHECK(images >= 1 && images <= (family == sim::Family::kEditV1 ? 1 : 3));
    FUZZ_CHECK(request.n >= 1 && request.n <= (family == sim::Family::kEditV1 ? 1 : 6));
    if (family == sim::Family::kEditV1) FUZZ_CHECK(!request.size_given);
    if (!request.size_given) return 0;  // the size follows the inputs (CheckInputImages)
    FUZZ_CHECK(std::min(request.width, request.height) >= 512 &&
               std::max(request.width, request.height) <= 2048);
    return 0;
  }
  if (family == sim::Family::kText) FUZZ_CHECK(images == 0);
  if (!request.size_given && images > 0) return 0;
  FUZZ_CHECK(request.width > 0 && request.height > 0);
  const int64_t pixels = int64_t{request.width} * request.height;
  if (family == sim::Family::kV2) {
    FUZZ_CHECK(images <= 3);
    FUZZ_CHECK(pixels >= 512 * 512 && pixels <= 2048 * 2048);
    FUZZ_CHECK(request.n >= 1 && request.n <= 6);
  } else {
    // The fixed sizes of §3.3 (current and legacy) only, and one image.
    const std::string size = absl::StrCat(request.width, "*", request.height);
    bool listed = false;
    for (const char* s : {"1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664",
                          "1472*1140", "1140*1472"}) {
      listed |= size == s;
    }
    FUZZ_CHECK(listed && request.n == 1);
  }
  FUZZ_CHECK(request.seed >= 0 && request.seed <= 2147483647);
  return 0;
}

}  // namespace qwenimage::fuzz
