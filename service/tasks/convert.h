// Conversions between the public proto types and the dashscope layer's plain structs.
#ifndef QWENIMAGE_SERVICE_TASKS_CONVERT_H_
#define QWENIMAGE_SERVICE_TASKS_CONVERT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "qwenimage/v1/models.pb.h"
#include "qwenimage/v1/task.pb.h"
#include "service/dashscope/catalog.h"
#include "service/dashscope/types.h"
#include "service/store/download_url.h"

namespace qwenimage::tasks {

void ToProto(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromProto(const google::protobuf::Timestamp& ts);

dashscope::GenerationInput ToInput(const v1::GenerationSpec& spec);
v1::GenerationSpec ToSpec(const dashscope::GenerationParams& params);
dashscope::GenerationParams ToParams(const v1::GenerationSpec& spec);
v1::UpstreamMode ToProto(dashscope::UpstreamMode mode);
void ToProto(const dashscope::ModelInfo& info, v1::Model* out);

// Stable digest of a normalised spec, to tell an idempotent retry from a conflicting request.
std::string SpecFingerprint(const v1::GenerationSpec& spec);

bool IsTerminal(v1::TaskState state);

// With a signer (--s3_presign_ttl > 0): `task` with a fresh Image.download_url and its expiry on
// every image; an image that cannot be signed keeps none. Without one, or once retention deleted
// the images (images_expire_time set): `task` as it is.
v1::Task WithDownloadUrls(const store::DownloadUrlSigner* signer, v1::Task task);


}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_CONVERT_H_
