// The simulator's DashScope endpoints driven over plain HTTP, checked field by field against the
// shapes of the reference (sync §4, async §5, errors §6, headers §2).
#include <set>

#include "absl/strings/ascii.h"

#include "gtest/gtest.h"
#include "tests/unit/simulator/sim_test_util.h"

namespace qwenimage::simulator {
namespace {

using nlohmann::json;

std::set<std::string> Keys(const json& obj) {
  std::set<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.insert(it.key());
  return out;
}

// "YYYY-MM-DD HH:MM:SS.mmm"
bool IsTaskTime(const json& v) {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  const std::string shape = "dddd-dd-dd dd:dd:dd.ddd";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'd' ? !absl::ascii_isdigit(s[i]) : s[i] != shape[i]) return false;
  }
  return true;
}

class ApiTest : public SimulatorTest {
 protected:
  void SetUp() override {
    options_.task_duration = {absl::Milliseconds(50), absl::Milliseconds(100)};
    options_.pending_delay = absl::Milliseconds(5);
    StartSim();
  }

  std::string CreateTask(const json& body) {
    HttpResponse r = Create(body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["output"]["task_id"].get<std::string>();
  }
};

TEST_F(ApiTest, SyncSuccessShapeWithTaskMetricForNon2Models) {
  HttpResponse r = Generate(SyncBody("qwen-image-max", "a cat", {{"size", "1328*1328"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.Json();
  EXPECT_EQ(Keys(j), (std::set<std::string>{"output", "usage", "request_id"}));
  EXPECT_EQ(r.headers["x-request-id"], j["request_id"]);
  EXPECT_EQ(r.headers["x-dashscope-requestid"], j["request_id"]);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(Keys(j["output"]), (std::set<std::string>{"choices", "task_metric"}));
  ASSERT_EQ(j["output"]["choices"].size(), 1u);
  const json& choice = j["output"]["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_EQ(choice["message"]["role"], "assistant");
  ASSERT_EQ(choice["message"]["content"].size(), 1u);
  EXPECT_EQ(Keys(choice["message"]["content"][0]), std::set<std::string>{"image"});
  EXPECT_EQ(j["output"]["task_metric"], (json{{"TOTAL", 1}, {"SUCCEEDED", 1}, {"FAILED", 0}}));
  EXPECT_EQ(j["usage"], (json{{"width", 1328}, {"height", 1328}, {"image_count", 1}}));
}

TEST_F(ApiTest, SyncTwoPointOhHasNImagesInOneContentAndNoTaskMetric) {
  HttpResponse r = Generate(SyncBody("qwen-image-2.0-pro", "a cat", {{"n", 3}, {"size", "1024*768"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.Json();
  EXPECT_EQ(Keys(j["output"]), std::set<std::string>{"choices"});
  ASSERT_EQ(j["output"]["choices"].size(), 1u);
  const json& content = j["output"]["choices"][0]["message"]["content"];
  ASSERT_EQ(content.size(), 3u);
  std::set<std::string> urls;
  for (const json& item : content) urls.insert(item["image"].get<std::string>());
  EXPECT_EQ(urls.size(), 3u);
  EXPECT_EQ(j["usage"], (json{{"width", 1024}, {"height", 768}, {"image_count", 3}}));
}

TEST_F(ApiTest, AsyncCreatePollToSucceeded) {
  HttpResponse created = Create(AsyncBody("qwen-image-plus", "a dog", {{"seed", 42}}));
  ASSERT_EQ(created.status, 200) << created.body;
  json c = created.Json();
  EXPECT_EQ(Keys(c), (std::set<std::string>{"output", "request_id"}));
  EXPECT_EQ(Keys(c["output"]), (std::set<std::string>{"task_status", "task_id"}));
  EXPECT_EQ(c["output"]["task_status"], "PENDING");
  EXPECT_EQ(created.headers["x-request-id"], c["request_id"]);
  const std::string id = c["output"]["task_id"];

  json done = WaitForStatus(id, "SUCCEEDED");
  ASSERT_EQ(done["output"]["task_status"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(Keys(done), (std::set<std::string>{"request_id", "output", "usage"}));
  const json& out = done["output"];
  EXPECT_EQ(Keys(out), (std::set<std::string>{"task_id", "task_status", "submit_time", "scheduled_time",
                                              "end_time", "results", "task_metrics"}));
  EXPECT_EQ(out["task_id"], id);
  EXPECT_TRUE(IsTaskTime(out["submit_time"]));
  EXPECT_TRUE(IsTaskTime(out["scheduled_time"]));
  EXPECT_TRUE(IsTaskTime(out["end_time"]));
  ASSERT_EQ(out["results"].size(), 1u);
  EXPECT_EQ(Keys(out["results"][0]), (std::set<std::string>{"orig_prompt", "actual_prompt", "url"}));
  EXPECT_EQ(out["results"][0]["orig_prompt"], "a dog");
  EXPECT_EQ(out["task_metrics"], (json{{"TOTAL", 1}, {"SUCCEEDED", 1}, {"FAILED", 0}}));
  EXPECT_EQ(done["usage"], (json{{"image_count", 1}}));
  HttpResponse again = GetTask(id);
  EXPECT_EQ(again.headers["content-type"], "application/json;charset=UTF-8");
}

TEST_F(ApiTest, ActualPromptOnlyWithPromptExtend) {
  std::string id = CreateTask(AsyncBody("qwen-image", "plain", {{"prompt_extend", false}}));
  json done = WaitForStatus(id, "SUCCEEDED");
  EXPECT_EQ(Keys(done["output"]["results"][0]), (std::set<std::string>{"orig_prompt", "url"}));
}

TEST_F(ApiTest, UnknownTaskIsUnknown) {
  HttpResponse r = GetTask("1111");
  ASSERT_EQ(r.status, 200);
  json j = r.Json();
  EXPECT_EQ(Keys(j), (std::set<std::string>{"request_id", "output"}));
  EXPECT_EQ(j["output"], (json{{"task_id", "1111"}, {"task_status", "UNKNOWN"}}));
}

TEST_F(ApiTest, TasksOfAnotherKeyAreUnknown) {
  sim_.reset();
  options_.api_keys = {"sk-a", "sk-b"};
  StartSim();
  HttpResponse created = Create(AsyncBody("qwen-image", "mine"), "sk-a");
  ASSERT_EQ(created.status, 200);
  std::string id = created.Json()["output"]["task_id"];
  EXPECT_EQ(GetTask(id, "sk-b").Json()["output"]["task_status"], "UNKNOWN");
  EXPECT_NE(GetTask(id, "sk-a").Json()["output"]["task_status"], "UNKNOWN");
  EXPECT_EQ(Cancel(id, "sk-b").status, 400);
}

TEST_F(ApiTest, ExpiredTaskBecomesUnknown) {
  sim_.reset();
  options_.task_ttl = absl::Milliseconds(300);
  StartSim();
  std::string id = CreateTask(AsyncBody("qwen-image", "short-lived"));
  WaitForStatus(id, "SUCCEEDED");
  json gone = WaitForStatus(id, "UNKNOWN");
  EXPECT_EQ(gone["output"], (json{{"task_id", id}, {"task_status", "UNKNOWN"}}));
}

TEST_F(ApiTest, CancelPendingOkRunningRejected) {
  sim_.reset();
  options_.limits = true;
  options_.running_limit = 1;
  options_.task_duration = {absl::Seconds(2), absl::Seconds(2)};
  StartSim();
  std::string first = CreateTask(AsyncBody("qwen-image", "first"));
  WaitForStatus(first, "RUNNING");
  std::string second = CreateTask(AsyncBody("qwen-image", "second"));
  json pending = GetTask(second).Json();
  ASSERT_EQ(pending["output"]["task_status"], "PENDING");
  EXPECT_EQ(Keys(pending["output"]), (std::set<std::string>{"task_id", "task_status", "submit_time"}));

  json running = GetTask(first).Json();
  EXPECT_EQ(Keys(running["output"]), (std::set<std::string>{"task_id", "task_status", "submit_time",
                                                            "scheduled_time", "task_metrics"}));
  EXPECT_EQ(running["output"]["task_metrics"], (json{{"TOTAL", 1}, {"SUCCEEDED", 0}, {"FAILED", 0}}));

  HttpResponse ok = Cancel(second);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Keys(ok.Json()), std::set<std::string>{"request_id"});
  EXPECT_EQ(GetTask(second).Json()["output"]["task_status"], "CANCELED");

  HttpResponse refused = Cancel(first);
  EXPECT_EQ(refused.status, 400);
  json e = refused.Json();
  EXPECT_EQ(e["code"], "UnsupportedOperation");
  EXPECT_EQ(e["message"],
            "Failed to cancel the task, please confirm if the task is in PENDING status.");
  EXPECT_EQ(Keys(e), (std::set<std::string>{"request_id", "code", "message"}));
}

TEST_F(ApiTest, ListPagingFiltersAndWindow) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(CreateTask(AsyncBody("qwen-image", "t")));
  ids.push_back(CreateTask(AsyncBody("qwen-image-plus", "p")));
  for (const std::string& id : ids) WaitForStatus(id, "SUCCEEDED");

  json page1 = List("?page_no=1&page_size=3").Json();
  EXPECT_EQ(Keys(page1), (std::set<std::string>{"total", "total_page", "page_no", "page_size",
                                                "request_id", "data"}));
  EXPECT_EQ(page1["total"], 4);
  EXPECT_EQ(page1["total_page"], 2);
  EXPECT_EQ(page1["page_no"], 1);
  EXPECT_EQ(page1["page_size"], 3);
  EXPECT_EQ(page1["data"].size(), 3u);
  json page2 = List("/?page_no=2&page_size=3").Json();  // "/tasks/" as the docs write it
  EXPECT_EQ(page2["data"].size(), 1u);

  const json& item = page1["data"][0];
  EXPECT_EQ(Keys(item), (std::set<std::string>{"api_key_id", "caller_parent_id", "caller_uid",
                                               "gmt_create", "start_time", "end_time", "model_name",
                                               "region", "request_id", "status", "task_id",
                                               "user_api_unique_key"}));
  EXPECT_TRUE(item["gmt_create"].is_number_integer());
  EXPECT_EQ(item["region"], "ap-southeast-1");
  EXPECT_EQ(item["status"], "SUCCEEDED");

  json plus = List("?model_name=qwen-image-plus").Json();
  ASSERT_EQ(plus["total"], 1);
  EXPECT_EQ(plus["data"][0]["task_id"], ids[3]);
  EXPECT_EQ(plus["data"][0]["user_api_unique_key"],
            "apikey:v1:aigc:text2image:image-synthesis:qwen-image-plus");
  EXPECT_EQ(List("?task_id=" + ids[0]).Json()["total"], 1);
  EXPECT_EQ(List("?status=FAILED").Json()["total"], 0);
  EXPECT_EQ(List("?page_size=10").Json()["page_size"], 10);

  // Windows: an old explicit window finds nothing; more than 24 h is rejected.
  EXPECT_EQ(List("?start_time=20200101000000&end_time=20200101120000").Json()["total"], 0);
  EXPECT_EQ(List("?start_time=20200101000000").Json()["total"], 0);
  HttpResponse wide = List("?start_time=20200101000000&end_time=20200103000000");
  EXPECT_EQ(wide.status, 400);
  EXPECT_EQ(wide.Json()["code"], "InvalidParameter");
  EXPECT_EQ(List("?page_no=0").status, 400);
}

TEST_F(ApiTest, AuthErrors) {
  HttpResponse bad = GetTask("x", "sk-wrong");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.Json()["code"], "InvalidApiKey");
  EXPECT_EQ(bad.Json()["message"], "Invalid API-key provided.");
  EXPECT_FALSE(bad.headers["x-request-id"].empty());
  HttpResponse none = Http("GET", Url("/tasks/x"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Json()["code"], "InvalidApiKey");
  EXPECT_EQ(Generate(SyncBody("qwen-image", "a"), "sk-wrong").status, 401);
}

TEST_F(ApiTest, KeysAreRegionBound) {
  sim_.reset();
  options_.api_keys = {"sk-sg", "sk-bj@beijing"};
  StartSim();
  EXPECT_EQ(GetTask("x", "sk-sg").status, 200);
  EXPECT_EQ(GetTask("x", "sk-bj").status, 401);
}

TEST_F(ApiTest, WrongModeIs403) {
  HttpResponse sync_on_async = Create(AsyncBody("qwen-image", "a"), "sk-simulator", false);
  EXPECT_EQ(sync_on_async.status, 403);
  EXPECT_EQ(sync_on_async.Json()["code"], "AccessDenied");
  EXPECT_EQ(sync_on_async.Json()["message"], "current user api does not support synchronous calls");
  HttpResponse async_on_sync =
      Generate(SyncBody("qwen-image", "a"), "sk-simulator", {"X-DashScope-Async: enable"});
  EXPECT_EQ(async_on_sync.status, 403);
  EXPECT_EQ(async_on_sync.Json()["message"], "Current user api does not support asynchronous calls");
  HttpResponse max_async = Create(AsyncBody("qwen-image-max", "a"));
  EXPECT_EQ(max_async.status, 403);
  EXPECT_EQ(Generate(SyncBody("qwen-image", "a"), "sk-simulator", {"X-DashScope-Async: disable"}).status,
            200);
}

TEST_F(ApiTest, ValidationErrorsOverHttp) {
  struct Case {
    json body;
    std::string code;
  } cases[] = {
      {SyncBody("qwen-image-nope", "a"), "InvalidParameter"},
      {SyncBody("qwen-image", "a", {{"size", "1024x1024"}}), "InvalidParameter"},
      {SyncBody("qwen-image", "a", {{"size", "1024*1024"}}), "InvalidParameter"},
      {SyncBody("qwen-image-2.0", "a", {{"size", "4096*4096"}}), "InvalidParameter"},
      {SyncBody("qwen-image-plus", "a", {{"n", 2}}), "InvalidParameter"},
      {SyncBody("qwen-image-2.0", "a", {{"n", 7}}), "InvalidParameter"},
      {SyncBody("qwen-image", "a", {{"seed", -5}}), "InvalidParameter"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Generate(c.body);
    EXPECT_EQ(r.status, 400) << c.body.dump();
    EXPECT_EQ(r.Json()["code"], c.code) << r.body;
  }
  HttpResponse garbage = Http("POST", Url("/services/aigc/multimodal-generation/generation"),
                              "{oops", {"Authorization: Bearer sk-simulator"});
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.Json()["code"], "BadRequest.IllegalInput");
  EXPECT_EQ(Generate(SyncBody("qwen-image-nope", "a")).Json()["message"], "Model not exist.");
}

TEST_F(ApiTest, LongPromptsAreTruncatedNotRejected) {
  std::string prompt(900, 'a');
  std::string id = CreateTask({{"model", "qwen-image"},
                               {"input", {{"prompt", prompt}, {"negative_prompt", std::string(600, 'n')}}}});
  json done = WaitForStatus(id, "SUCCEEDED");
  EXPECT_EQ(done["output"]["results"][0]["orig_prompt"].get<std::string>(), std::string(800, 'a'));
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", prompt)).status, 200);
}

TEST_F(ApiTest, NegativePromptInParametersAccepted) {
  HttpResponse r = Create(AsyncBody("qwen-image", "a", {{"negative_prompt", "blurry"}}));
  EXPECT_EQ(r.status, 200) << r.body;
  HttpResponse in_input = Create({{"model", "qwen-image"},
                                  {"input", {{"prompt", "a"}, {"negative_prompt", "blurry"}}},
                                  {"parameters", json::object()}});
  EXPECT_EQ(in_input.status, 200) << in_input.body;
}

TEST_F(ApiTest, PngDownloadHasRequestedSizeAndIsDeterministic) {
  json params = {{"size", "928*1664"}, {"seed", 7}};
  std::string a = CreateTask(AsyncBody("qwen-image", "same", params));
  std::string b = CreateTask(AsyncBody("qwen-image", "same", params));
  std::string url_a = WaitForStatus(a, "SUCCEEDED")["output"]["results"][0]["url"];
  std::string url_b = WaitForStatus(b, "SUCCEEDED")["output"]["results"][0]["url"];
  EXPECT_NE(url_a.find("/images/"), std::string::npos);
  EXPECT_NE(url_a.find("Expires="), std::string::npos);
  EXPECT_NE(url_a.find("OSSAccessKeyId="), std::string::npos);
  EXPECT_NE(url_a.find("Signature="), std::string::npos);
  HttpResponse png_a = Http("GET", url_a);
  HttpResponse png_b = Http("GET", url_b);
  ASSERT_EQ(png_a.status, 200);
  EXPECT_EQ(png_a.headers["content-type"], "image/png");
  EXPECT_EQ(PngSize(png_a.body), std::make_pair(928, 1664));
  EXPECT_EQ(png_a.body, png_b.body);

  HttpResponse big = Generate(SyncBody("qwen-image-2.0", "big", {{"size", "2048*2048"}, {"seed", 1}}));
  std::string big_url = big.Json()["output"]["choices"][0]["message"]["content"][0]["image"];
  EXPECT_EQ(PngSize(Http("GET", big_url).body), std::make_pair(2048, 2048));
  EXPECT_EQ(Http("GET", big_url.substr(0, big_url.find("Signature=")) + "Signature=0").status, 403);
}

TEST_F(ApiTest, ImagesExpire) {
  sim_.reset();
  options_.image_ttl = absl::Milliseconds(1);
  StartSim();
  HttpResponse r = Generate(SyncBody("qwen-image", "fleeting"));
  std::string url = r.Json()["output"]["choices"][0]["message"]["content"][0]["image"];
  EXPECT_TRUE(WaitUntil([&] { return Http("GET", url).status == 404; }));
}

TEST_F(ApiTest, TimeScaleShrinksDurations) {
  sim_.reset();
  options_.task_duration = {absl::Seconds(20), absl::Seconds(30)};
  options_.time_scale = 0.005;  // 100..150 ms
  StartSim();
  std::string id = CreateTask(AsyncBody("qwen-image", "quick"));
  EXPECT_EQ(WaitForStatus(id, "SUCCEEDED")["output"]["task_status"], "SUCCEEDED");
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", "quick")).status, 200);
}

TEST_F(ApiTest, CanceledShapeAndBeijingRegion) {
  sim_.reset();
  options_.region = "beijing";
  options_.limits = true;
  options_.running_limit = 1;
  options_.task_duration = {absl::Seconds(2), absl::Seconds(2)};
  StartSim();
  std::string first = CreateTask(AsyncBody("qwen-image", "first"));
  std::string second = CreateTask(AsyncBody("qwen-image", "second"));
  ASSERT_EQ(Cancel(second).status, 200);
  json canceled = GetTask(second).Json();
  EXPECT_EQ(Keys(canceled["output"]),
            (std::set<std::string>{"task_id", "task_status", "submit_time", "end_time"}));
  json listed = List("?status=CANCELED").Json();
  ASSERT_EQ(listed["total"], 1);
  EXPECT_EQ(listed["data"][0]["region"], "cn-beijing");
  EXPECT_EQ(listed["data"][0]["task_id"], second);
  EXPECT_FALSE(listed["data"][0].contains("start_time"));
}

TEST(SimulatorStartTest, RejectsBadOptions) {
  SimulatorOptions bad_listen;
  bad_listen.listen = "nonsense";
  EXPECT_FALSE(Simulator::Start(bad_listen).ok());
  SimulatorOptions bad_region;
  bad_region.region = "mars";
  EXPECT_FALSE(Simulator::Start(bad_region).ok());
  SimulatorOptions bad_scale;
  bad_scale.time_scale = 0;
  EXPECT_FALSE(Simulator::Start(bad_scale).ok());
}

TEST_F(ApiTest, BaseUrlAndPort) {
  EXPECT_GT(sim_->port(), 0);
  EXPECT_EQ(sim_->base_url(), "http://127.0.0.1:" + std::to_string(sim_->port()) + "/api/v1");
}

TEST_F(ApiTest, UnknownPathIs404) {
  const std::vector<std::string> auth = {"Authorization: Bearer sk-simulator"};
  EXPECT_EQ(Http("GET", Url("/services/nope"), "", auth).status, 404);
  EXPECT_EQ(Http("POST", Url("/tasksXY/cancel"), "", auth).status, 404);
  EXPECT_EQ(Http("GET", Url("/tasks/a/b"), "", auth).status, 404);
  EXPECT_EQ(Http("GET", Url("/tasks/a/cancel"), "", auth).status, 404);
  EXPECT_EQ(Http("GET", Root("/__nope")).status, 404);
}

}  // namespace
}  // namespace qwenimage::simulator
