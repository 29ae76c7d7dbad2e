#include "service/tasks/input_images.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/common/field_error.h"
#include "service/common/image_format.h"
#include "service/dashscope/catalog.h"
#include "service/store/image_key.h"
#include "service/store/sha256.h"
#include "service/tasks/convert.h"
#include "service/tasks/image_uri.h"

namespace qwenimage::tasks {
namespace {

// The bytes of the tenant's stored result `uri`. The answer for another tenant's task is the one
// for a task that does not exist: NOT_FOUND, telling nothing of it.
absl::StatusOr<std::string> ReadTaskImage(store::TaskStore& tasks, store::ImageStore& images,
                                          const std::string& tenant, const std::string& field,
                                          const std::string& uri) {
  absl::StatusOr<ImageRef> ref = ParseImageUri(uri);
  if (!ref.ok()) return FieldError(field, ref.status().message());
  const auto not_found = [&](absl::string_view why) {
    return absl::NotFoundError(absl::StrCat(field, ": ", uri, " ", why));
  };
  absl::StatusOr<store::TaskRecord> record = tasks.Get(ref->task_id);
  if (absl::IsNotFound(record.status()) || (record.ok() && record->tenant != tenant)) {
    return not_found("names no task of yours");
  }
  if (!record.ok()) return record.status();
  const v1::Task& task = record->task;
  if (task.state() != v1::TASK_STATE_SUCCEEDED) return not_found("is not a succeeded task's");
  if (task.has_images_expire_time()) return not_found("was deleted by retention (--image_ttl)");
  const bool listed = std::any_of(task.images().begin(), task.images().end(),
                                  [&](const v1::Image& i) { return i.index() == ref->index; });
  if (!listed) return not_found("names no image of that task");
  absl::StatusOr<std::string> bytes = images.Get(ref->task_id, ref->index);
  if (absl::IsNotFound(bytes.status())) return not_found("is no longer stored");
  return bytes;
}

// A stored image as an input: the rules uploads obey (dashscope::CheckInputImage), recorded.
absl::Status CheckStoredImage(const std::string& field, absl::string_view bytes,
                              v1::InputImage& input) {
  absl::StatusOr<ImageHeader> header = dashscope::CheckInputImage(bytes);
  if (!header.ok()) return FieldError(field, header.status().message());
  input.set_content_type(std::string(MimeType(header->format)));
  input.set_width(header->width);
  input.set_height(header->height);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::InputImage>> StoreInputImages(store::TaskStore& tasks,
                                                             store::ImageStore& images,
                                                             const std::string& tenant,
                                                             const std::string& task_id,
                                                             std::vector<v1::InputImage> inputs) {
  bool stored_any = false;
  auto fail = [&](absl::Status status) {
    if (stored_any) images.DeleteTask(task_id).IgnoreError();
    return status;
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    v1::InputImage& input = inputs[i];
    const std::string field = absl::StrCat("spec.input_images[", i, "]");
    std::string bytes;
    switch (input.source_case()) {
      case v1::InputImage::kUrl:
        continue;
      case v1::InputImage::kData:
        bytes = std::move(*input.mutable_data());
        input.clear_data();
        break;
      case v1::InputImage::kTaskImage: {
        absl::StatusOr<std::string> read =
            ReadTaskImage(tasks, images, tenant, absl::StrCat(field, ".task_image"),
                          input.task_image());
        if (!read.ok()) return fail(read.status());
        bytes = *std::move(read);
        if (absl::Status s = CheckStoredImage(absl::StrCat(field, ".task_image"), bytes, input);
            !s.ok()) {
          return fail(s);
        }
        break;
      }
      case v1::InputImage::SOURCE_NOT_SET:
        return fail(FieldError(field, "needs one of data, url or task_image"));
    }
    input.set_sha256(store::Sha256Hex(bytes));
    input.set_size_bytes(static_cast<int64_t>(bytes.size()));
    stored_any = true;  // even a failed Put may leave something behind
    if (absl::Status s = images.Put(task_id, store::InputImageIndex(static_cast<int>(i)), bytes);
        !s.ok()) {
      return fail(s);
    }
  }
  return inputs;
}

absl::StatusOr<std::vector<std::string>> LoadInputImages(store::ImageStore& images,
                                                         const v1::Task& task) {
  std::vector<std::string> out;
  const auto& inputs = task.spec().input_images();
  for (int i = 0; i < inputs.size(); ++i) {
    const v1::InputImage& input = inputs[i];
    if (input.source_case() == v1::InputImage::kUrl) {
      out.push_back(input.url());
      continue;
    }
    absl::StatusOr<std::string> bytes = images.Get(task.id(), store::InputImageIndex(i));
    if (!bytes.ok()) {
      return absl::Status(bytes.status().code(),
                          absl::StrCat("input image ", i + 1, ": ", bytes.status().message()));
    }
    if (store::Sha256Hex(*bytes) != input.sha256()) {
      return absl::DataLossError(
          absl::StrCat("input image ", i + 1, " no longer matches its recorded sha256"));
    }
    out.push_back(absl::StrCat("data:", input.content_type(), ";base64,",
                               absl::Base64Escape(*bytes)));
  }
  return out;
}

}  // namespace qwenimage::tasks
