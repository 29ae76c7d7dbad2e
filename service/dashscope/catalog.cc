#include "service/dashscope/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace qwenimage::dashscope {
namespace {

// Counts code points of well-formed UTF-8; nullopt on any malformed sequence (overlong forms,
// surrogates and values past U+10FFFF included), which upstream would reject or mangle.
std::optional<int64_t> CountCodePoints(absl::string_view s) {
  int64_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += len;
    ++count;
  }
  return count;
}

// Checks one text field; `required` rejects empty and whitespace-only text.
void CheckText(absl::string_view field, absl::string_view text, int max_chars, bool required,
               std::vector<Violation>& out) {
  const std::optional<int64_t> chars = CountCodePoints(text);
  if (!chars.has_value()) {
    out.push_back({std::string(field), "must be valid UTF-8"});
    return;
  }
  if (required && absl::StripAsciiWhitespace(text).empty()) {
    out.push_back({std::string(field), "is required and must not be blank"});
  } else if (*chars > max_chars) {
    out.push_back({std::string(field), absl::StrCat("must be at most ", max_chars,
                                                    " characters (has ", *chars, ")")});
  }
}

void CheckSize(const ModelInfo& model, absl::string_view size, std::vector<Violation>& out) {
  if (size.empty()) return;  // default
  if (model.size_from_inputs) {
    out.push_back({"size", absl::StrCat("must be empty for ", model.name,
                                        ": its output follows the last input image")});
    return;
  }
  absl::StatusOr<ImageSize> parsed = ParseSize(size);
  if (!parsed.ok()) {
    out.push_back({"size", std::string(parsed.status().message())});
    return;
  }
  if (!model.sizes.empty()) {
    const std::string canonical = absl::StrCat(parsed->width, "*", parsed->height);
    if (std::find(model.sizes.begin(), model.sizes.end(), canonical) != model.sizes.end()) return;
    out.push_back({"size", absl::StrCat("must be one of ", absl::StrJoin(model.sizes, ", "),
                                        " for ", model.name)});
    return;
  }
  if (model.max_side > 0) {
    if (std::min(parsed->width, parsed->height) < model.min_side ||
        std::max(parsed->width, parsed->height) > model.max_side) {
      out.push_back({"size", absl::StrCat("width and height must each be within ", model.min_side,
                                          "..", model.max_side, " for ", model.name)});
    }
    return;
  }
  const int64_t pixels = int64_t{parsed->width} * parsed->height;
  if (pixels < model.min_pixels || pixels > model.max_pixels) {
    out.push_back({"size", absl::StrCat("width*height must be within ", model.min_pixels, "..",
                                        model.max_pixels, " pixels for ", model.name,
                                        " (has ", pixels, ")")});
  }
}

}  // namespace

ModelCatalog::ModelCatalog(std::vector<ModelInfo> models) : models_(std::move(models)) {}

const ModelInfo* ModelCatalog::Find(absl::string_view name) const {
  for (const ModelInfo& m : models_) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

absl::StatusOr<ImageSize> ParseSize(absl::string_view size) {
  const std::vector<absl::string_view> parts = absl::StrSplit(size, '*');
  auto dimension = [](absl::string_view d, int* out) {
    // Digits only (no sign, space or 'x'); 5 digits cover every legal size without overflow.
    if (d.empty() || d.size() > 5) return false;
    for (char c : d) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return absl::SimpleAtoi(d, out) && *out > 0;
  };
  ImageSize parsed;
  if (parts.size() != 2 || !dimension(parts[0], &parsed.width) ||
      !dimension(parts[1], &parsed.height)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be \"W*H\" with positive integers and an asterisk, e.g. 1664*928 "
                     "(got \"", absl::CHexEscape(size.substr(0, 32)), "\")"));
  }
  return parsed;
}

std::vector<Violation> Validate(const ModelCatalog& catalog, const GenerationInput& input) {
  std::vector<Violation> out;
  const ModelInfo* model = catalog.Find(input.model);
  if (model == nullptr) {
    out.push_back({"model", input.model.empty()
                                ? "is required"
                                : absl::StrCat("unknown model \"",
                                               absl::CHexEscape(input.model.substr(0, 64)),
                                               "\"; see ListModels")});
  }
  const int max_prompt = model != nullptr ? model->max_prompt_chars : 800;
  const int max_negative = model != nullptr ? model->max_negative_prompt_chars : 500;
  CheckText("prompt", input.prompt, max_prompt, /*required=*/true, out);
  CheckText("negative_prompt", input.negative_prompt, max_negative, /*required=*/false, out);
  if (model == nullptr) {
    if (!input.size.empty() && !ParseSize(input.size).ok()) {
      out.push_back({"size", std::string(ParseSize(input.size).status().message())});
    }
  } else {
    CheckSize(*model, input.size, out);
    if (input.n != 0 && (input.n < model->min_n || input.n > model->max_n)) {
      out.push_back({"n", model->min_n == model->max_n
                              ? absl::StrCat("must be ", model->min_n, " for ", model->name)
                              : absl::StrCat("must be within ", model->min_n, "..",
                                             model->max_n, " for ", model->name)});
    }
  }
  if (model != nullptr && (input.input_images < model->min_input_images ||
                           input.input_images > model->max_input_images)) {
    out.push_back(
        {"input_images",
         model->max_input_images == 0
             ? absl::StrCat("are not accepted by ", model->name, " (has ", input.input_images, ")")
             : absl::StrCat("must be within ", model->min_input_images, "..",
                            model->max_input_images, " for ", model->name, " (has ",
                            input.input_images, ")")});
  }
  const int64_t max_seed = model != nullptr ? model->max_seed : 2147483647;
  if (input.seed.has_value() && (*input.seed < 0 || *input.seed > max_seed)) {
    out.push_back({"seed", absl::StrCat("must be within 0..", max_seed)});
  }
  return out;
}

absl::StatusOr<ImageHeader> CheckInputImage(absl::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) > kMaxInputImageBytes) {
    return absl::InvalidArgumentError(absl::StrCat("is ", bytes.size(),
                                                   " bytes; an input may be at most ",
                                                   kMaxInputImageBytes, " (10 MiB)"));
  }
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  if (!header.ok()) return header.status();
  if (std::min(header->width, header->height) < kMinInputImageSide ||
      std::max(header->width, header->height) > kMaxInputImageSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "is ", header->width, "*", header->height, "; an input's sides must be within ",
        kMinInputImageSide, "..", kMaxInputImageSide, " pixels"));
  }
  return header;
}

GenerationParams ResolveDefaults(const ModelInfo& model, const GenerationInput& input) {
  GenerationParams p;
  p.model = model.name;
  p.prompt = input.prompt;
  p.negative_prompt = input.negative_prompt;
  // Canonical form ("01664*928" → "1664*928"), the one upstream documents.
  absl::StatusOr<ImageSize> size = ParseSize(input.size);
  // Without a size, an edit follows its last input (upstream decides): no size is sent.
  if (size.ok()) {
    p.size = absl::StrCat(size->width, "*", size->height);
  } else if (input.input_images == 0) {
    p.size = model.default_size;
  }
  p.n = input.n == 0 ? model.min_n : input.n;
  p.seed = input.seed;
  p.prompt_extend = input.prompt_extend.value_or(model.default_prompt_extend);
  p.watermark = input.watermark.value_or(model.default_watermark);
  return p;
}

}  // namespace qwenimage::dashscope
