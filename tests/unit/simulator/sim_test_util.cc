// libcurl-based helpers shared by the simulator tests.
#include "tests/unit/simulator/sim_test_util.h"

#include <curl/curl.h>

#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace qwenimage::simulator {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  absl::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    (*static_cast<std::map<std::string, std::string>*>(out))[absl::AsciiStrToLower(
        line.substr(0, colon))] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

}  // namespace

nlohmann::json HttpResponse::Json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

HttpResponse Http(const std::string& method, const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers, long timeout_ms) {
  HttpResponse r;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  r.curl_code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

std::pair<int, int> PngSize(const std::string& png) {
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (png.size() < 24 || png.compare(0, 8, kSig, 8) != 0 || png.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  auto be32 = [&](size_t at) {
    return static_cast<int>((static_cast<unsigned char>(png[at]) << 24) |
                            (static_cast<unsigned char>(png[at + 1]) << 16) |
                            (static_cast<unsigned char>(png[at + 2]) << 8) |
                            static_cast<unsigned char>(png[at + 3]));
  };
  return {be32(16), be32(20)};
}

void SimulatorTest::StartSim() {
  absl::StatusOr<std::unique_ptr<Simulator>> sim = Simulator::Start(options_);
  ASSERT_TRUE(sim.ok()) << sim.status();
  sim_ = *std::move(sim);
}

std::string SimulatorTest::Root(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(sim_->port()) + path;
}

HttpResponse SimulatorTest::Generate(const nlohmann::json& body, const std::string& key,
                                     std::vector<std::string> extra_headers) {
  extra_headers.push_back("Authorization: Bearer " + key);
  extra_headers.push_back("Content-Type: application/json");
  return Http("POST", Url("/services/aigc/multimodal-generation/generation"), body.dump(),
              extra_headers);
}

HttpResponse SimulatorTest::Create(const nlohmann::json& body, const std::string& key,
                                   bool async_header) {
  std::vector<std::string> headers = {"Authorization: Bearer " + key,
                                      "Content-Type: application/json"};
  if (async_header) headers.push_back("X-DashScope-Async: enable");
  return Http("POST", Url("/services/aigc/text2image/image-synthesis"), body.dump(), headers);
}

HttpResponse SimulatorTest::GetTask(const std::string& id, const std::string& key) {
  return Http("GET", Url("/tasks/" + id), "", {"Authorization: Bearer " + key});
}

HttpResponse SimulatorTest::Cancel(const std::string& id, const std::string& key) {
  return Http("POST", Url("/tasks/" + id + "/cancel"), "", {"Authorization: Bearer " + key});
}

HttpResponse SimulatorTest::List(const std::string& query, const std::string& key) {
  return Http("GET", Url("/tasks" + query), "", {"Authorization: Bearer " + key});
}

nlohmann::json SimulatorTest::Stats() { return Http("GET", Root("/__stats")).Json(); }

bool SimulatorTest::WaitUntil(const std::function<bool()>& probe) {
  for (int i = 0; i < 1000; ++i) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

nlohmann::json SimulatorTest::WaitForStatus(const std::string& id, const std::string& status) {
  nlohmann::json last;
  WaitUntil([&] {
    last = GetTask(id).Json();
    return last.is_object() && last["output"]["task_status"] == status;
  });
  return last;
}

nlohmann::json SimulatorTest::SyncBody(const std::string& model, const std::string& prompt,
                                       nlohmann::json parameters) {
  nlohmann::json content = nlohmann::json::array({nlohmann::json{{"text", prompt}}});
  nlohmann::json message = {{"role", "user"}, {"content", content}};
  return {{"model", model},
          {"input", {{"messages", nlohmann::json::array({message})}}},
          {"parameters", parameters}};
}

nlohmann::json SimulatorTest::AsyncBody(const std::string& model, const std::string& prompt,
                                        nlohmann::json parameters) {
  return {{"model", model}, {"input", {{"prompt", prompt}}}, {"parameters", parameters}};
}

}  // namespace qwenimage::simulator
