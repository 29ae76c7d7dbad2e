#include "service/api/input_validation.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/image_format.h"
#include "service/tasks/image_uri.h"

namespace qwenimage::api {
namespace {

// Characters RFC 3986 never allows unencoded; DashScope refuses URLs holding them (and
// non-ASCII ones, dashscope-api.md §9), so they must come percent-encoded.
bool IsUrlChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  return absl::string_view("\"<>\\^`{|}").find(c) == absl::string_view::npos;
}

std::optional<std::string> UrlProblem(absl::string_view url) {
  if (url.size() > kMaxInputUrlChars) {
    return absl::StrCat("must be at most ", kMaxInputUrlChars, " characters (has ", url.size(),
                        ")");
  }
  if (!absl::StartsWithIgnoreCase(url, "https://")) {
    return "must be an https:// URL (DashScope fetches it)";
  }
  if (!std::all_of(url.begin(), url.end(), IsUrlChar)) {
    return "must be printable ASCII without spaces or \"<>\\^`{|}: percent-encode them";
  }
  const absl::string_view rest = url.substr(8);
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "must name a host";
  if (authority.find('@') != absl::string_view::npos) {
    return "must not carry credentials (user:password@)";
  }
  return std::nullopt;
}

void CheckData(const std::string& field, v1::InputImage& input,
               std::vector<dashscope::Violation>* out) {
  if (input.data().empty()) {
    out->push_back({absl::StrCat(field, ".data"), "is empty"});
    return;
  }
  absl::StatusOr<ImageHeader> header = dashscope::CheckInputImage(input.data());
  if (!header.ok()) {
    out->push_back({absl::StrCat(field, ".data"), std::string(header.status().message())});
    return;
  }
  if (!input.content_type().empty()) {
    std::optional<ImageFormat> declared = FormatFromMimeType(input.content_type());
    if (!declared.has_value()) {
      out->push_back({absl::StrCat(field, ".content_type"),
                      "must be image/jpeg, image/png, image/bmp, image/tiff, image/webp or "
                      "image/gif (or empty: the format is sniffed)"});
      return;
    }
    if (*declared != header->format) {
      out->push_back({absl::StrCat(field, ".content_type"),
                      absl::StrCat("says ", MimeType(*declared), " but the bytes are a ",
                                   FormatName(header->format), " image")});
      return;
    }
  }
  input.set_content_type(std::string(MimeType(header->format)));
  input.set_width(header->width);
  input.set_height(header->height);
}

}  // namespace

void TakeInputImages(v1::GenerationSpec& spec, std::vector<v1::InputImage>* inputs,
                     std::vector<dashscope::Violation>* violations) {
  for (int i = 0; i < spec.input_images_size(); ++i) {
    v1::InputImage& input = *spec.mutable_input_images(i);
    const std::string field = absl::StrCat("input_images[", i, "]");
    // Output-only: what the gateway records, never what a caller says.
    input.clear_sha256();
    input.clear_size_bytes();
    input.clear_width();
    input.clear_height();
    switch (input.source_case()) {
      case v1::InputImage::kData:
        CheckData(field, input, violations);
        break;
      case v1::InputImage::kUrl:
        if (std::optional<std::string> problem = UrlProblem(input.url())) {
          violations->push_back({absl::StrCat(field, ".url"), *std::move(problem)});
        }
        break;
      case v1::InputImage::kTaskImage:
        if (absl::StatusOr<tasks::ImageRef> ref = tasks::ParseImageUri(input.task_image());
            !ref.ok()) {
          violations->push_back(
              {absl::StrCat(field, ".task_image"), std::string(ref.status().message())});
        }
        break;
      case v1::InputImage::SOURCE_NOT_SET:
        violations->push_back({field, "needs one of data, url or task_image"});
        break;
    }
    if (input.source_case() != v1::InputImage::kData && !input.content_type().empty()) {
      violations->push_back({absl::StrCat(field, ".content_type"),
                             "applies to data only (a url's or stored image's type is its own)"});
    }
    if (input.source_case() != v1::InputImage::kData) input.clear_content_type();
  }
  inputs->assign(std::make_move_iterator(spec.mutable_input_images()->begin()),
                 std::make_move_iterator(spec.mutable_input_images()->end()));
  spec.clear_input_images();
}

}  // namespace qwenimage::api
