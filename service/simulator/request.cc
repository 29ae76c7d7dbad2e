// Model catalog and create-body validation (reference §1.2, §3). Messages mimic the real service
// where it is documented and are plain English otherwise.
#include "service/simulator/request.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace qwenimage::simulator {
namespace {

using json = nlohmann::json;

constexpr ModelSpec kModels[] = {
    {"qwen-image", true, Family::kText},
    {"qwen-image-plus", true, Family::kText},
    {"qwen-image-plus-2026-01-09", false, Family::kText},
    {"qwen-image-max", false, Family::kText},
    {"qwen-image-max-2025-12-30", false, Family::kText},
    {"qwen-image-2.0", false, Family::kV2},
    {"qwen-image-2.0-2026-03-03", false, Family::kV2},
    {"qwen-image-2.0-pro", false, Family::kV2},
    {"qwen-image-2.0-pro-2026-04-22", false, Family::kV2},
    {"qwen-image-2.0-pro-2026-03-03", false, Family::kV2},
    {"qwen-image-edit", false, Family::kEditV1},
    {"qwen-image-edit-plus", false, Family::kEdit},
    {"qwen-image-edit-plus-2025-12-15", false, Family::kEdit},
    {"qwen-image-edit-max", false, Family::kEdit},
};

// Current list first, then the legacy 1140 sizes still accepted (reference §3.3 size notes).
constexpr absl::string_view kFixedSizes[] = {"1664*928",  "1472*1104", "1328*1328", "1104*1472",
                                             "928*1664",  "1472*1140", "1140*1472"};
constexpr int64_t kMinPixels = 512 * 512;
constexpr int64_t kMaxPixels = 2048 * 2048;

std::optional<ApiError> ParseSize(const ModelSpec& model, const std::string& size, int* w, int* h) {
  std::vector<absl::string_view> parts = absl::StrSplit(size, '*');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], w) || !absl::SimpleAtoi(parts[1], h) ||
      *w <= 0 || *h <= 0 || size.find_first_not_of("0123456789*") != std::string::npos) {
    return InvalidParameter(absl::StrCat("The size '", size,
                                         "' is invalid, it must be in the format width*height, "
                                         "e.g. 1328*1328."));
  }
  if (model.family == Family::kEdit) {
    if (std::min(*w, *h) < 512 || std::max(*w, *h) > 2048) {
      return InvalidParameter(absl::StrCat("The size '", size,
                                           "' is invalid, width and height must each be between "
                                           "512 and 2048."));
    }
    return std::nullopt;
  }
  if (model.family == Family::kV2) {
    int64_t pixels = int64_t{*w} * *h;
    if (pixels < kMinPixels || pixels > kMaxPixels) {
      return InvalidParameter(absl::StrCat("The size '", size,
                                           "' is invalid, the total pixels must be between "
                                           "512*512 and 2048*2048."));
    }
    return std::nullopt;
  }
  for (absl::string_view allowed : kFixedSizes) {
    if (allowed == size) return std::nullopt;
  }
  return InvalidParameter(absl::StrCat("The size '", size, "' is not supported, allowed sizes: ",
                                       absl::StrJoin(std::begin(kFixedSizes),
                                                     std::begin(kFixedSizes) + 5, ", "),
                                       "."));
}

std::optional<ApiError> ReadString(const json& obj, const char* key, const char* field,
                                   std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return InvalidParameter(absl::StrCat(field, " must be a string."));
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> ReadBool(const json& obj, const char* key, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return InvalidParameter(absl::StrCat("parameters.", key, " must be a boolean."));
  *out = it->get<bool>();
  return std::nullopt;
}

// An image item's value: a data URI (decoded here) or an http(s) URL (fetched later).
std::optional<ApiError> ReadImageItem(const json& value, ImageRequest::Input* out) {
  if (!value.is_string()) return InvalidParameter("The image must be a string (a URL or a data URI).");
  const std::string& text = value.get_ref<const std::string&>();
  absl::string_view v = text;
  if (absl::ConsumePrefix(&v, "data:")) {
    const size_t comma = v.find(',');
    if (comma == absl::string_view::npos || !absl::EndsWith(v.substr(0, comma), ";base64") ||
        !absl::StartsWith(v, "image/")) {
      return InvalidParameter("The image data URI must be data:image/<type>;base64,<data>.");
    }
    if (!absl::Base64Unescape(v.substr(comma + 1), &out->bytes)) {
      return InvalidParameter("The image data URI is not valid base64.");
    }
    if (static_cast<int64_t>(out->bytes.size()) > kMaxInputImageBytes) {
      return InvalidParameter("The image size exceeds 10MB.");
    }
    return std::nullopt;
  }
  const bool http = absl::StartsWithIgnoreCase(v, "http://") || absl::StartsWithIgnoreCase(v, "https://");
  const bool printable = std::all_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (!http || !printable || v.size() > 2048) {
    return ApiError{400, "InvalidURL",
                    "The image url is invalid: it must be a public http(s) URL without spaces or "
                    "non-ASCII characters, or a data URI."};
  }
  out->url = text;
  return std::nullopt;
}

// Sync body: exactly one user message whose content has exactly one text item and the image
// items its model family allows (§9), images in order.
std::optional<ApiError> PromptFromMessages(const json& input, const ModelSpec& model,
                                           std::string* prompt,
                                           std::vector<ImageRequest::Input>* images) {
  auto messages = input.find("messages");
  if (messages == input.end() || !messages->is_array()) {
    return InvalidParameter("Field required: input.messages");
  }
  if (messages->size() != 1) return InvalidParameter("messages length only supports 1");
  const json& msg = (*messages)[0];
  // Compared as JSON: value("role", "") would throw on a role that is not a string.
  if (!msg.is_object() || !msg.contains("role") || msg["role"] != "user") {
    return InvalidParameter("The role of the message must be user.");
  }
  auto content = msg.find("content");
  if (content == msg.end() || !content->is_array()) {
    return InvalidParameter("Field required: input.messages[0].content");
  }
  if (model.family == Family::kEditV1 && content->size() != 2) {
    return InvalidParameter("content length only supports 2");
  }
  int texts = 0;
  for (const json& item : *content) {
    if (item.is_object() && item.contains("text") && item["text"].is_string()) {
      ++texts;
      *prompt = item["text"].get<std::string>();
    } else if (item.is_object() && item.contains("image")) {
      if (auto err = ReadImageItem(item["image"], &images->emplace_back())) return err;
    } else {
      return InvalidParameter("Each content item must be {\"text\": ...} or {\"image\": ...}.");
    }
  }
  const int count = static_cast<int>(images->size());
  switch (model.family) {
    case Family::kText:
      if (texts != 1) return InvalidParameter("content must contain exactly one text item.");
      if (count > 0) return InvalidParameter("This model does not support image input.");
      break;
    case Family::kV2:
      if (texts != 1) return InvalidParameter("content must contain exactly one text item.");
      if (count > 3) return InvalidParameter("content supports at most 3 images.");
      break;
    case Family::kEditV1:
      if (texts != 1 || count != 1) return InvalidParameter("lack of image or text");
      break;
    case Family::kEdit:
      if (texts != 1 || count == 0) return InvalidParameter("lack of image or text");
      if (count > 3) return InvalidParameter("content supports at most 3 images.");
      break;
  }
  return std::nullopt;
}

}  // namespace

const ModelSpec* FindModel(absl::string_view name) {
  for (const ModelSpec& m : kModels) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string TruncateChars(absl::string_view text, int max_chars) {
  int chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    // A UTF-8 code point starts at every byte that is not a continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && chars++ == max_chars) {
      return std::string(text.substr(0, i));
    }
  }
  return std::string(text);
}

std::optional<ApiError> ParseImageRequest(absl::string_view body, CreateEndpoint endpoint,
                                          int64_t random_seed, ImageRequest* out) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return ApiError{400, "BadRequest.IllegalInput", "The request body is not valid JSON."};
  }
  auto model_it = doc.find("model");
  if (model_it == doc.end() || !model_it->is_string() || model_it->get<std::string>().empty()) {
    return ApiError{400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request."};
  }
  out->model = FindModel(model_it->get<std::string>());
  if (out->model == nullptr) return InvalidParameter("Model not exist.");
  if (endpoint == CreateEndpoint::kImageSynthesis && !out->model->async) {
    return ApiError{403, "AccessDenied", "Current user api does not support asynchronous calls"};
  }
  auto input = doc.find("input");
  if (input == doc.end() || !input->is_object()) {
    return ApiError{400, "BadRequest.EmptyInput", "Required input parameter missing from request."};
  }
  static const json kEmpty = json::object();
  auto params_it = doc.find("parameters");
  const json& params = params_it != doc.end() && params_it->is_object() ? *params_it : kEmpty;

  std::string prompt;
  if (endpoint == CreateEndpoint::kGeneration) {
    if (auto err = PromptFromMessages(*input, *out->model, &prompt, &out->inputs)) return err;
  } else {
    if (auto err = ReadString(*input, "prompt", "input.prompt", &prompt)) return err;
  }
  if (prompt.empty()) return InvalidParameter("Field required: input.prompt");
  out->full_prompt = prompt;
  out->prompt = TruncateChars(prompt, kMaxPromptChars);

  std::string negative;  // `input` is where the Python SDK puts it; `parameters` wins.
  if (auto err = ReadString(*input, "negative_prompt", "input.negative_prompt", &negative)) return err;
  if (auto err = ReadString(params, "negative_prompt", "parameters.negative_prompt", &negative)) return err;
  out->negative_prompt = TruncateChars(negative, kMaxNegativePromptChars);

  const Family family = out->model->family;
  std::string size;
  if (auto err = ReadString(params, "size", "parameters.size", &size)) return err;
  out->size_given = !size.empty();
  if (family == Family::kEditV1 && out->size_given) {
    return InvalidParameter("The size parameter is not supported by qwen-image-edit.");
  }
  if (!out->size_given) {
    // An edit without a size follows its last input (CheckInputImages sets it).
    size = family == Family::kText ? "1664*928" : family == Family::kV2 ? "2048*2048" : "";
  }
  if (!size.empty()) {
    if (auto err = ParseSize(*out->model, size, &out->width, &out->height)) return err;
  }

  out->n = 1;
  if (auto it = params.find("n"); it != params.end() && !it->is_null()) {
    const int max_n = family == Family::kV2 || family == Family::kEdit ? 6 : 1;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > max_n) {
      return InvalidParameter(max_n == 6 ? "num_images_per_prompt must be between 1 and 6."
                                         : "num_images_per_prompt must be 1.");
    }
    out->n = it->get<int>();
  }
  out->seed = random_seed;
  if (auto it = params.find("seed"); it != params.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 2147483647) {
      return InvalidParameter("The seed must be an integer in [0, 2147483647].");
    }
    out->seed = it->get<int64_t>();
  }
  if (auto err = ReadBool(params, "prompt_extend", &out->prompt_extend)) return err;
  if (auto err = ReadBool(params, "watermark", &out->watermark)) return err;
  return std::nullopt;
}

}  // namespace qwenimage::simulator
