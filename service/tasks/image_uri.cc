#include "service/tasks/image_uri.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/store/image_key.h"

namespace qwenimage::tasks {
namespace {

constexpr absl::string_view kPrefix = "qwenimage://tasks/";
constexpr absl::string_view kImages = "/images/";

}  // namespace

std::string ImageUri(absl::string_view task_id, int index) {
  return absl::StrCat(kPrefix, task_id, kImages, index);
}

absl::StatusOr<ImageRef> ParseImageUri(absl::string_view uri) {
  const auto bad = [] {
    return absl::InvalidArgumentError(
        "must be \"qwenimage://tasks/{task_id}/images/{index}\", as in Image.uri");
  };
  if (!absl::ConsumePrefix(&uri, kPrefix)) return bad();
  const size_t slash = uri.find(kImages);
  if (slash == absl::string_view::npos) return bad();
  ImageRef ref;
  ref.task_id = std::string(uri.substr(0, slash));
  const absl::string_view index = uri.substr(slash + kImages.size());
  if (!store::ValidateImageTaskId(ref.task_id).ok() || index.empty() || index.size() > 3 ||
      (index.size() > 1 && index[0] == '0')) {
    return bad();
  }
  for (char c : index) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad();
  }
  if (!absl::SimpleAtoi(index, &ref.index) || ref.index >= store::kFirstInputImageIndex) {
    return bad();
  }
  return ref;
}

}  // namespace qwenimage::tasks
