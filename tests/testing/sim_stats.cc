#include "tests/testing/sim_stats.h"

#include <curl/curl.h>

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace qwenimage::testing {
namespace {

std::string Root(const std::string& base_url) {
  size_t at = base_url.find("/api/v1");
  return at == std::string::npos ? base_url : base_url.substr(0, at);
}

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string Fetch(const std::string& url, bool post, const std::string& header = "") {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_slist* headers = header.empty() ? nullptr : curl_slist_append(nullptr, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (headers != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  if (post) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) throw std::runtime_error("simulator admin call failed: " + url);
  return body;
}

}  // namespace

int64_t SimStats::Requests(const std::string& endpoint, const std::string& status) const {
  nlohmann::json j = nlohmann::json::parse(json);
  auto e = j["requests"].find(endpoint);
  if (e == j["requests"].end()) return 0;
  auto s = e->find(status);
  return s == e->end() ? 0 : s->get<int64_t>();
}

SimStats FetchSimStats(const std::string& base_url) {
  SimStats stats;
  stats.json = Fetch(Root(base_url) + "/__stats", false);
  nlohmann::json j = nlohmann::json::parse(stats.json);
  stats.async_creates = j["creates"].value("async", int64_t{0});
  stats.sync_generations = j["creates"].value("sync", int64_t{0});
  stats.throttled = j.value("throttled", int64_t{0});
  if (j.contains("edits")) {
    stats.edit_calls = j["edits"].value("calls", int64_t{0});
    stats.input_images = j["edits"].value("input_images", int64_t{0});
  }
  const nlohmann::json gets = j["requests"].value("task_get", nlohmann::json::object());
  for (auto& [status, n] : gets.items()) {
    stats.task_gets += n.get<int64_t>();
  }
  stats.cancels_ok = stats.Requests("task_cancel", "200");
  const nlohmann::json peaks = j.value("peak_running", nlohmann::json::object());
  for (auto& [model, n] : peaks.items()) {
    if (n.is_number()) stats.peak_running_max = std::max(stats.peak_running_max, n.get<int64_t>());
  }
  return stats;
}

std::string HttpGet(const std::string& url) { return Fetch(url, /*post=*/false); }

void PostSimAdmin(const std::string& base_url, const std::string& path_and_query) {
  Fetch(Root(base_url) + path_and_query, true);
}

std::string FetchSimTaskList(const std::string& base_url, const std::string& api_key,
                             const std::string& query) {
  return Fetch(base_url + "/tasks?" + query, false, "Authorization: Bearer " + api_key);
}

SimCreateReply PostSimAsyncCreate(const std::string& base_url, const std::string& api_key,
                                  const std::string& model, const std::string& prompt) {
  const std::string request =
      nlohmann::json{{"model", model}, {"input", {{"prompt", prompt}}}, {"parameters", {{"n", 1}}}}
          .dump();
  const std::string url = base_url + "/services/aigc/text2image/image-synthesis";
  CURL* curl = curl_easy_init();
  SimCreateReply reply;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Authorization: Bearer " + api_key).c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "X-DashScope-Async: enable");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.c_str());
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.http_status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) throw std::runtime_error("direct create at the simulator failed: " + url);
  nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("output") && j["output"].is_object()) {
    reply.task_id = j["output"].value("task_id", "");
  }
  return reply;
}

std::string FetchSimTask(const std::string& base_url, const std::string& api_key,
                         const std::string& task_id) {
  return Fetch(base_url + "/tasks/" + task_id, false, "Authorization: Bearer " + api_key);
}

}  // namespace qwenimage::testing
