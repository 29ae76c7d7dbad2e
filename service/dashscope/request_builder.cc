#include "service/dashscope/request_builder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "service/dashscope/upstream_time.h"

namespace qwenimage::dashscope {
namespace {

using Json = nlohmann::ordered_json;

// Knobs shared by both endpoints; the async body adds nothing else to parameters.
Json Parameters(const GenerationParams& p) {
  Json params = Json::object();
  if (!p.negative_prompt.empty()) params["negative_prompt"] = p.negative_prompt;
  if (!p.size.empty()) params["size"] = p.size;
  params["n"] = p.n;
  params["prompt_extend"] = p.prompt_extend;
  params["watermark"] = p.watermark;
  if (p.seed.has_value()) params["seed"] = *p.seed;
  return params;
}

std::string Dump(const Json& j) {
  // Inputs are validated UTF-8; replacement only guards against a caller that skipped that.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", u);
    }
  }
  return out;
}

}  // namespace

std::string BuildGenerationBody(const GenerationParams& params) {
  Json body;
  body["model"] = params.model;
  // Images first, in order ("image 1/2/3" in the prompt), then the one text item (§9).
  Json content = Json::array();
  for (const std::string& image : params.images) content.push_back({{"image", image}});
  content.push_back({{"text", params.prompt}});
  body["input"]["messages"] = Json::array({{{"role", "user"}, {"content", std::move(content)}}});
  body["parameters"] = Parameters(params);
  return Dump(body);
}

std::string BuildCreateTaskBody(const GenerationParams& params) {
  Json body;
  body["model"] = params.model;
  body["input"]["prompt"] = params.prompt;
  body["parameters"] = Parameters(params);
  return Dump(body);
}

std::string TaskPath(absl::string_view task_id) {
  return absl::StrCat("tasks/", PercentEncode(task_id));
}

std::string CancelTaskPath(absl::string_view task_id) {
  return absl::StrCat(TaskPath(task_id), "/cancel");
}

std::string TaskListPath(const TaskListQuery& query) {
  std::string path =
      absl::StrCat("tasks?page_no=", query.page_no, "&page_size=", query.page_size);
  if (query.start_time.has_value()) {
    absl::StrAppend(&path, "&start_time=", FormatListQueryTime(*query.start_time));
  }
  if (query.end_time.has_value()) {
    absl::StrAppend(&path, "&end_time=", FormatListQueryTime(*query.end_time));
  }
  if (!query.model_name.empty()) {
    absl::StrAppend(&path, "&model_name=", PercentEncode(query.model_name));
  }
  if (query.status.has_value()) {
    absl::StrAppend(&path, "&status=", TaskStatusName(*query.status));
  }
  return path;
}

absl::string_view TaskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kPending: return "PENDING";
    case TaskStatus::kRunning: return "RUNNING";
    case TaskStatus::kSucceeded: return "SUCCEEDED";
    case TaskStatus::kFailed: return "FAILED";
    case TaskStatus::kCanceled: return "CANCELED";
    case TaskStatus::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

}  // namespace qwenimage::dashscope
