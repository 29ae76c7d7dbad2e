#include "service/tasks/convert.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "service/dashscope/errors.h"
#include "service/store/sha256.h"

namespace qwenimage::tasks {

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

dashscope::GenerationInput ToInput(const v1::GenerationSpec& spec) {
  dashscope::GenerationInput in;
  in.model = spec.model();
  in.prompt = spec.prompt();
  in.negative_prompt = spec.negative_prompt();
  in.size = spec.size();
  in.n = spec.n();
  if (spec.has_seed()) in.seed = spec.seed();
  if (spec.has_prompt_extend()) in.prompt_extend = spec.prompt_extend();
  if (spec.has_watermark()) in.watermark = spec.watermark();
  in.input_images = spec.input_images_size();
  return in;
}

v1::GenerationSpec ToSpec(const dashscope::GenerationParams& params) {
  v1::GenerationSpec spec;
  spec.set_model(params.model);
  spec.set_prompt(params.prompt);
  spec.set_negative_prompt(params.negative_prompt);
  spec.set_size(params.size);
  spec.set_n(params.n);
  if (params.seed.has_value()) spec.set_seed(*params.seed);
  spec.set_prompt_extend(params.prompt_extend);
  spec.set_watermark(params.watermark);
  return spec;
}

dashscope::GenerationParams ToParams(const v1::GenerationSpec& spec) {
  dashscope::GenerationParams p;
  p.model = spec.model();
  p.prompt = spec.prompt();
  p.negative_prompt = spec.negative_prompt();
  p.size = spec.size();
  p.n = spec.n();
  if (spec.has_seed()) p.seed = spec.seed();
  p.prompt_extend = spec.prompt_extend();
  p.watermark = spec.watermark();
  return p;
}

v1::UpstreamMode ToProto(dashscope::UpstreamMode mode) {
  return mode == dashscope::UpstreamMode::kAsync ? v1::UPSTREAM_MODE_ASYNC
                                                 : v1::UPSTREAM_MODE_SYNC;
}

void ToProto(const dashscope::ModelInfo& info, v1::Model* out) {
  out->set_name(info.name);
  out->set_snapshot_of(info.snapshot_of);
  out->set_upstream_mode(ToProto(info.mode));
  for (const std::string& size : info.sizes) out->add_sizes(size);
  out->set_min_pixels(info.min_pixels);
  out->set_max_pixels(info.max_pixels);
  out->set_default_size(info.default_size);
  out->set_min_n(info.min_n);
  out->set_max_n(info.max_n);
  out->set_max_prompt_chars(info.max_prompt_chars);
  out->set_max_negative_prompt_chars(info.max_negative_prompt_chars);
  out->set_max_seed(info.max_seed);
  out->set_default_prompt_extend(info.default_prompt_extend);
  out->set_default_watermark(info.default_watermark);
  out->set_min_input_images(info.min_input_images);
  out->set_max_input_images(info.max_input_images);
  out->set_min_side(info.min_side);
  out->set_max_side(info.max_side);
  out->set_size_from_inputs(info.size_from_inputs);
  for (const std::string& region : info.regions) out->add_regions(region);
  if (info.default_limits.has_value()) {
    out->set_default_max_running_tasks(info.default_limits->max_running);
    out->set_default_submits_per_second(info.default_limits->submits_per_second);
  }
}

std::string SpecFingerprint(const v1::GenerationSpec& spec) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  spec.SerializeToCodedStream(&coded);
  coded.Trim();
  return store::Sha256Hex(bytes);
}

bool IsTerminal(v1::TaskState state) {
  return state == v1::TASK_STATE_SUCCEEDED || state == v1::TASK_STATE_FAILED ||
         state == v1::TASK_STATE_CANCELLED;
}

v1::Task WithDownloadUrls(const store::DownloadUrlSigner* signer, v1::Task task) {
  // Images that retention deleted (images_expire_time) have nothing left to sign a URL for.
  if (signer == nullptr || task.has_images_expire_time()) return task;
  for (v1::Image& image : *task.mutable_images()) {
    absl::StatusOr<store::DownloadUrl> url = signer->SignDownloadUrl(task.id(), image.index());
    if (!url.ok()) continue;
    image.set_download_url(std::move(url->url));
    ToProto(url->expire_time, image.mutable_download_url_expire_time());
  }
  return task;
}

}  // namespace qwenimage::tasks
