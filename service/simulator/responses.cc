// Reply bodies built with nlohmann::ordered_json so fields come out in the real service's order.
#include "service/simulator/responses.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "service/simulator/images.h"

namespace qwenimage::simulator {
namespace {

using json = nlohmann::ordered_json;

int64_t EpochMs(absl::Time t) { return absl::ToUnixMillis(t); }

json Metrics(const Task& task) {
  const int total = task.request.n;
  int ok = 0;
  if (task.status == TaskStatus::kSucceeded) ok = task.Succeeded();
  bool terminal = task.status == TaskStatus::kSucceeded || task.status == TaskStatus::kFailed;
  return json{{"TOTAL", total}, {"SUCCEEDED", ok}, {"FAILED", terminal ? total - ok : 0}};
}

// Stable fake account fields for the list endpoint, derived from the key.
std::string AccountNumber(absl::string_view key, absl::string_view salt, int digits) {
  std::string n = absl::StrCat(Fnv1a64(absl::StrCat(salt, key)));
  return n.substr(0, digits);
}

}  // namespace

std::string FormatTaskTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", t, absl::FixedTimeZone(8 * 3600));
}

std::string ExtendedPrompt(absl::string_view prompt) {
  return absl::StrCat(prompt, " The image is richly detailed, with natural lighting, balanced "
                              "composition and sharp focus.");
}

std::string ErrorBody(absl::string_view request_id, const ApiError& error) {
  return json{{"request_id", request_id}, {"code", error.code}, {"message", error.message}}.dump();
}

std::string GatewayErrorBody(int http_status) {
  // nginx's own reason phrases, which differ from RFC 9110's in places ("Gateway Time-out").
  absl::string_view reason = http_status == 408   ? "Request Time-out"
                             : http_status == 500 ? "Internal Server Error"
                             : http_status == 502 ? "Bad Gateway"
                             : http_status == 503 ? "Service Temporarily Unavailable"
                             : http_status == 504 ? "Gateway Time-out"
                                                  : "Server Error";
  const std::string title = absl::StrCat(http_status, " ", reason);
  return absl::StrCat("<html>\r\n<head><title>", title, "</title></head>\r\n<body>\r\n<center><h1>",
                      title, "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
}

std::string RequestIdBody(absl::string_view request_id) {
  return json{{"request_id", request_id}}.dump();
}

std::string SyncResultBody(absl::string_view request_id, const Task& task) {
  json content = json::array();
  for (const ImageResult& r : task.results) {
    if (r.code.empty()) content.push_back(json{{"image", r.url}});
  }
  json output = {{"choices", json::array({json{
                     {"finish_reason", "stop"},
                     {"message", {{"role", "assistant"}, {"content", content}}}}})}};
  if (task.request.model->family == Family::kText) output["task_metric"] = Metrics(task);
  return json{{"output", output},
              {"usage",
               {{"width", task.request.width},
                {"height", task.request.height},
                {"image_count", task.Succeeded()}}},
              {"request_id", request_id}}
      .dump();
}

std::string AsyncCreateBody(absl::string_view request_id, const Task& task) {
  return json{{"output", {{"task_status", StatusName(task.status)}, {"task_id", task.id}}},
              {"request_id", request_id}}
      .dump();
}

std::string TaskBody(absl::string_view request_id, absl::string_view task_id, const Task* task) {
  json output = {{"task_id", task_id},
                 {"task_status", task ? StatusName(task->status) : "UNKNOWN"}};
  json body = {{"request_id", request_id}};
  if (task == nullptr) {
    body["output"] = output;
    return body.dump();
  }
  const TaskStatus s = task->status;
  if (s == TaskStatus::kFailed) {
    output["code"] = task->code;
    output["message"] = task->message;
  }
  output["submit_time"] = FormatTaskTime(task->submit_time);
  if (task->scheduled_time != absl::InfinitePast()) {
    output["scheduled_time"] = FormatTaskTime(task->scheduled_time);
  }
  if (task->end_time != absl::InfinitePast()) output["end_time"] = FormatTaskTime(task->end_time);
  if (s == TaskStatus::kSucceeded) {
    json results = json::array();
    for (const ImageResult& r : task->results) {
      if (!r.code.empty()) {
        results.push_back(json{{"code", r.code}, {"message", r.message}});
        continue;
      }
      json item = {{"orig_prompt", task->request.prompt}};
      if (task->request.prompt_extend) item["actual_prompt"] = ExtendedPrompt(task->request.prompt);
      item["url"] = r.url;
      results.push_back(item);
    }
    output["results"] = results;
  }
  if (s != TaskStatus::kPending && s != TaskStatus::kCanceled) output["task_metrics"] = Metrics(*task);
  body["output"] = output;
  if (s == TaskStatus::kSucceeded) body["usage"] = {{"image_count", task->Succeeded()}};
  return body.dump();
}

std::string ListBody(absl::string_view request_id, const ListPage& page,
                     absl::string_view region_id) {
  json data = json::array();
  for (const Task* t : page.data) {
    const std::string model(t->request.model->name);
    json item = {{"api_key_id", AccountNumber(t->key, "key", 5)},
                 {"caller_parent_id", AccountNumber(t->key, "account", 16)},
                 {"caller_uid", AccountNumber(t->key, "account", 16)},
                 {"gmt_create", EpochMs(t->submit_time)}};
    if (t->scheduled_time != absl::InfinitePast()) item["start_time"] = EpochMs(t->scheduled_time);
    if (t->end_time != absl::InfinitePast()) item["end_time"] = EpochMs(t->end_time);
    item["model_name"] = model;
    item["region"] = region_id;
    item["request_id"] = t->request_id;
    item["status"] = StatusName(t->status);
    item["task_id"] = t->id;
    item["user_api_unique_key"] = absl::StrCat("apikey:v1:aigc:text2image:image-synthesis:", model);
    data.push_back(item);
  }
  const int64_t total_page = (page.total + page.page_size - 1) / page.page_size;
  return json{{"total", page.total},   {"total_page", total_page}, {"page_no", page.page_no},
              {"page_size", page.page_size}, {"request_id", request_id}, {"data", data}}
      .dump();
}

}  // namespace qwenimage::simulator
