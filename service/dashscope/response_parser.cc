#include "service/dashscope/response_parser.h"

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "service/dashscope/errors.h"
#include "service/dashscope/upstream_time.h"

namespace qwenimage::dashscope {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxExcerpt = 200;

absl::Status Malformed(absl::string_view what, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("malformed DashScope ", what, " reply: ", why));
}

// Parses `body` as a JSON object, or explains why not.
absl::StatusOr<Json> ParseObject(absl::string_view what, absl::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Malformed(what, absl::StrCat("not valid JSON (", body.size(), " bytes)"));
  }
  if (!j.is_object()) return Malformed(what, "not a JSON object");
  return j;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

const Json* Object(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

const Json* Array(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? &*it : nullptr;
}

std::optional<absl::Time> TaskTime(const Json& j, const char* key) {
  return ParseTaskTime(Str(j, key));
}

std::optional<absl::Time> EpochMillis(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return absl::FromUnixMillis(it->get<int64_t>());
}

// A 2xx reply that nevertheless carries an error code and no output.
std::optional<absl::Status> ErrorEnvelope(const Json& j) {
  if (Str(j, "code").empty() || Object(j, "output") != nullptr) return std::nullopt;
  UpstreamError error;
  error.http_status = 200;
  error.code = Str(j, "code");
  error.message = Str(j, "message");
  error.request_id = Str(j, "request_id");
  return UpstreamErrorStatus(error);  // the caller classifies: it knows whether it was billed
}

// A 2xx reply as a JSON object, or why it is not one, or the error it carries.
absl::StatusOr<Json> ParseReply(absl::string_view what, absl::string_view body) {
  absl::StatusOr<Json> root = ParseObject(what, body);
  if (!root.ok()) return root.status();
  if (std::optional<absl::Status> error = ErrorEnvelope(*root)) return *error;
  return root;
}

void ParseUsage(const Json& root, UpstreamTask& task) {
  if (const Json* usage = Object(root, "usage")) {
    task.image_count = static_cast<int>(Int(*usage, "image_count"));
    task.width = static_cast<int>(Int(*usage, "width"));
    task.height = static_cast<int>(Int(*usage, "height"));
  }
}

}  // namespace

std::optional<TaskStatus> ParseTaskStatus(absl::string_view name) {
  if (name == "PENDING" || name == "SUSPENDED") return TaskStatus::kPending;
  if (name == "RUNNING") return TaskStatus::kRunning;
  if (name == "SUCCEEDED") return TaskStatus::kSucceeded;
  if (name == "FAILED") return TaskStatus::kFailed;
  if (name == "CANCELED") return TaskStatus::kCanceled;
  if (name == "UNKNOWN") return TaskStatus::kUnknown;
  return std::nullopt;
}

absl::StatusOr<UpstreamTask> ParseGenerationResponse(absl::string_view body) {
  constexpr absl::string_view kWhat = "generation";
  absl::StatusOr<Json> root = ParseReply(kWhat, body);
  if (!root.ok()) return root.status();
  const Json* output = Object(*root, "output");
  const Json* choices = output != nullptr ? Array(*output, "choices") : nullptr;
  if (choices == nullptr || choices->empty() || !(*choices)[0].is_object()) {
    return Malformed(kWhat, "no output.choices");
  }
  const Json* message = Object((*choices)[0], "message");
  const Json* content = message != nullptr ? Array(*message, "content") : nullptr;
  if (content == nullptr) return Malformed(kWhat, "no output.choices[0].message.content");

  UpstreamTask task;
  task.status = TaskStatus::kSucceeded;
  task.request_id = Str(*root, "request_id");
  for (const Json& item : *content) {
    if (!item.is_object()) continue;
    std::string url = Str(item, "image");
    if (!url.empty()) {
      task.images.push_back({std::move(url), "", "", static_cast<int>(task.images.size())});
    }
  }
  if (task.images.empty()) return Malformed(kWhat, "no image in output.choices[0]");
  ParseUsage(*root, task);
  if (task.image_count == 0) task.image_count = static_cast<int>(task.images.size());
  return task;
}

absl::StatusOr<CreatedTask> ParseCreateTaskResponse(absl::string_view body) {
  constexpr absl::string_view kWhat = "task creation";
  absl::StatusOr<Json> root = ParseReply(kWhat, body);
  if (!root.ok()) return root.status();
  const Json* output = Object(*root, "output");
  if (output == nullptr || Str(*output, "task_id").empty()) {
    return Malformed(kWhat, "no output.task_id");
  }
  CreatedTask created;
  created.task_id = Str(*output, "task_id");
  created.status = ParseTaskStatus(Str(*output, "task_status")).value_or(TaskStatus::kPending);
  created.request_id = Str(*root, "request_id");
  return created;
}

absl::StatusOr<UpstreamTask> ParseTaskResponse(absl::string_view body) {
  constexpr absl::string_view kWhat = "task query";
  absl::StatusOr<Json> root = ParseReply(kWhat, body);
  if (!root.ok()) return root.status();
  const Json* output = Object(*root, "output");
  if (output == nullptr) return Malformed(kWhat, "no output");
  std::optional<TaskStatus> status = ParseTaskStatus(Str(*output, "task_status"));
  if (!status.has_value()) {
    return Malformed(kWhat, absl::StrCat("unrecognised output.task_status \"",
                                         absl::CHexEscape(Str(*output, "task_status")), "\""));
  }
  UpstreamTask task;
  task.task_id = Str(*output, "task_id");
  task.status = *status;
  task.request_id = Str(*root, "request_id");
  task.submit_time = TaskTime(*output, "submit_time");
  task.scheduled_time = TaskTime(*output, "scheduled_time");
  task.end_time = TaskTime(*output, "end_time");
  task.code = Str(*output, "code");
  task.message = Str(*output, "message");
  if (const Json* results = Array(*output, "results")) {
    for (size_t i = 0; i < results->size(); ++i) {
      const Json& r = (*results)[i];
      if (!r.is_object()) continue;
      if (!Str(r, "url").empty()) {
        task.images.push_back(
            {Str(r, "url"), Str(r, "orig_prompt"), Str(r, "actual_prompt"), static_cast<int>(i)});
      } else {
        task.failures.push_back({static_cast<int>(i), Str(r, "code"), Str(r, "message")});
      }
    }
  }
  if (task.status == TaskStatus::kSucceeded && task.images.empty()) {
    return Malformed(kWhat, "SUCCEEDED without any image url");
  }
  ParseUsage(*root, task);
  if (task.status == TaskStatus::kSucceeded && task.image_count == 0) {
    task.image_count = static_cast<int>(task.images.size());
  }
  return task;
}

absl::StatusOr<TaskListPage> ParseTaskListResponse(absl::string_view body) {
  constexpr absl::string_view kWhat = "task list";
  absl::StatusOr<Json> root = ParseReply(kWhat, body);
  if (!root.ok()) return root.status();
  TaskListPage page;
  page.total = static_cast<int>(Int(*root, "total"));
  page.total_page = static_cast<int>(Int(*root, "total_page"));
  page.page_no = static_cast<int>(Int(*root, "page_no"));
  page.page_size = static_cast<int>(Int(*root, "page_size"));
  page.request_id = Str(*root, "request_id");
  auto data = root->find("data");
  if (data != root->end() && !data->is_null() && !data->is_array()) {
    return Malformed(kWhat, "data is not an array");
  }
  if (data == root->end() || data->is_null()) return page;  // an empty page may omit it
  for (const Json& d : *data) {
    if (!d.is_object()) return Malformed(kWhat, "data entry is not an object");
    TaskListEntry entry;
    entry.task_id = Str(d, "task_id");
    entry.status = ParseTaskStatus(Str(d, "status")).value_or(TaskStatus::kUnknown);
    entry.model_name = Str(d, "model_name");
    entry.request_id = Str(d, "request_id");
    entry.gmt_create = EpochMillis(d, "gmt_create");
    entry.start_time = EpochMillis(d, "start_time");
    entry.end_time = EpochMillis(d, "end_time");
    page.data.push_back(std::move(entry));
  }
  return page;
}

absl::StatusOr<std::string> ParseCancelResponse(absl::string_view body) {
  constexpr absl::string_view kWhat = "cancel";
  absl::StatusOr<Json> root = ParseReply(kWhat, body);
  if (!root.ok()) return root.status();
  return Str(*root, "request_id");
}

UpstreamError ParseErrorResponse(int http_status, absl::string_view body, bool* from_dashscope) {
  UpstreamError error;
  error.http_status = http_status;
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  *from_dashscope = j.is_object() && !Str(j, "code").empty();
  if (*from_dashscope) {
    error.code = Str(j, "code");
    error.message = Str(j, "message");
    error.request_id = Str(j, "request_id");
  } else {
    // A proxy or gateway page rather than DashScope itself.
    error.code = "Unknown";
    absl::string_view excerpt = absl::StripAsciiWhitespace(body.substr(0, kMaxExcerpt));
    error.message = excerpt.empty() ? absl::StrCat("HTTP ", http_status, " with empty body")
                                    : absl::StrCat("HTTP ", http_status, ": ",
                                                   absl::CHexEscape(excerpt));
  }
  return error;
}

}  // namespace qwenimage::dashscope
