// Account limits, fault injection (prompt markers and probabilities), key revocation and the
// /__stats introspection, all over plain HTTP.
#include <thread>

#include "gtest/gtest.h"
#include "tests/unit/simulator/sim_test_util.h"

namespace qwenimage::simulator {
namespace {

using nlohmann::json;

class LimitsFaultsTest : public SimulatorTest {
 protected:
  void SetUp() override {
    options_.task_duration = {absl::Milliseconds(30), absl::Milliseconds(60)};
    options_.pending_delay = absl::Milliseconds(5);
  }

  std::string CreateTask(const json& body) {
    HttpResponse r = Create(body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["output"]["task_id"].get<std::string>();
  }

  // With a running limit of 1, a second sync call arrives while the first one runs.
  std::pair<HttpResponse, HttpResponse> TwoSyncCallsWithOneSlot(OverLimit mode) {
    options_.limits = true;
    options_.running_limit = 1;
    options_.sync_over_limit = mode;
    options_.task_duration = {absl::Milliseconds(400), absl::Milliseconds(400)};
    StartSim();
    HttpResponse first;
    std::thread t([&] { first = Generate(SyncBody("qwen-image-max", "held")); });
    EXPECT_TRUE(WaitUntil([&] { return Running("qwen-image-max") == 1; }));
    HttpResponse second = Generate(SyncBody("qwen-image-max", "second"));
    t.join();
    return {first, second};
  }

  int64_t Running(const std::string& model) {
    json s = Stats();
    return s["running"].contains(model) ? s["running"][model].get<int64_t>() : 0;
  }
};

TEST_F(LimitsFaultsTest, SubmitRateAnswers429RateQuota) {
  options_.limits = true;
  StartSim();
  EXPECT_EQ(Create(AsyncBody("qwen-image", "a")).status, 200);
  EXPECT_EQ(Create(AsyncBody("qwen-image", "b")).status, 200);
  HttpResponse third = Create(AsyncBody("qwen-image", "c"));
  ASSERT_EQ(third.status, 429);
  EXPECT_EQ(third.Json()["code"], "Throttling.RateQuota");
  EXPECT_EQ(third.Json()["message"], "Requests rate limit exceeded, please try again later.");
  // Per model: another model has its own budget; and limits are per key.
  EXPECT_EQ(Create(AsyncBody("qwen-image-plus", "d")).status, 200);
  EXPECT_GE(Stats()["throttled"].get<int64_t>(), 1);
  EXPECT_EQ(Stats()["requests"]["image-synthesis"]["429"], 1);
}

TEST_F(LimitsFaultsTest, AsyncBeyondRunningLimitStaysPendingThenRuns) {
  options_.limits = true;
  options_.submit_rate.clear();
  options_.running_limit = 2;
  options_.task_duration = {absl::Milliseconds(300), absl::Milliseconds(300)};
  StartSim();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(CreateTask(AsyncBody("qwen-image", "q")));
  ASSERT_TRUE(WaitUntil([&] { return Running("qwen-image") == 2; }));
  EXPECT_EQ(Stats()["tasks"]["PENDING"], 2);
  for (const std::string& id : ids) {
    EXPECT_EQ(WaitForStatus(id, "SUCCEEDED")["output"]["task_status"], "SUCCEEDED");
  }
  EXPECT_EQ(Stats()["peak_running"]["qwen-image"], 2);
}

TEST_F(LimitsFaultsTest, AsyncRejectModeAnswers429Concurrency) {
  options_.limits = true;
  options_.submit_rate.clear();
  options_.running_limit = 1;
  options_.async_over_limit = OverLimit::kReject;
  options_.task_duration = {absl::Seconds(2), absl::Seconds(2)};
  StartSim();
  CreateTask(AsyncBody("qwen-image", "one"));
  HttpResponse r = Create(AsyncBody("qwen-image", "two"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Json()["code"], "Throttling.Concurrency");
}

TEST_F(LimitsFaultsTest, SyncBeyondRunningLimitAnswers429) {
  auto [first, second] = TwoSyncCallsWithOneSlot(OverLimit::kReject);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.Json()["code"], "Throttling.Concurrency");
}

TEST_F(LimitsFaultsTest, SyncQueueModeHoldsTheCallUntilASlotFrees) {
  auto [first, second] = TwoSyncCallsWithOneSlot(OverLimit::kQueue);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(Stats()["peak_running"]["qwen-image-max"], 1);
}

TEST_F(LimitsFaultsTest, TaskApiQpsShared) {
  options_.limits = true;
  options_.task_api_qps = 3;
  StartSim();
  EXPECT_EQ(GetTask("a").status, 200);
  EXPECT_EQ(List("").status, 200);
  EXPECT_EQ(Cancel("a").status, 400);
  HttpResponse r = GetTask("a");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Json()["code"], "Throttling.RateQuota");
}

TEST_F(LimitsFaultsTest, LimitsOffByDefault) {
  StartSim();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Create(AsyncBody("qwen-image", "x")).status, 200);
}

TEST_F(LimitsFaultsTest, ImmediateErrorMarkers) {
  StartSim();
  struct Case {
    std::string prompt;
    long status;
    std::string code;
  } cases[] = {
      {"a [sim:fail=InternalError]", 500, "InternalError"},
      {"a [sim:moderation]", 400, "DataInspectionFailed"},
      {"a [sim:status=503]", 503, "ModelUnavailable"},
      {"a [sim:status=429]", 429, "Throttling.RateQuota"},
      {"a [sim:fail=Arrearage]", 400, "Arrearage"},
  };
  for (const Case& c : cases) {
    HttpResponse sync = Generate(SyncBody("qwen-image-max", c.prompt));
    EXPECT_EQ(sync.status, c.status) << c.prompt;
    EXPECT_EQ(sync.Json()["code"], c.code) << sync.body;
    HttpResponse async = Create(AsyncBody("qwen-image", c.prompt));
    EXPECT_EQ(async.status, c.status) << c.prompt;
    EXPECT_EQ(async.Json()["code"], c.code) << async.body;
  }
  EXPECT_EQ(Stats()["creates"], (json{{"async", 0}, {"sync", 0}}));
}

TEST_F(LimitsFaultsTest, TaskFailMarker) {
  StartSim();
  std::string id = CreateTask(AsyncBody("qwen-image", "x [sim:task_fail=DataInspectionFailed]"));
  json failed = WaitForStatus(id, "FAILED");
  const json& out = failed["output"];
  ASSERT_EQ(out["task_status"], "FAILED") << failed.dump();
  EXPECT_EQ(out["code"], "DataInspectionFailed");
  EXPECT_FALSE(out["message"].get<std::string>().empty());
  EXPECT_EQ(out["task_metrics"], (json{{"TOTAL", 1}, {"SUCCEEDED", 0}, {"FAILED", 1}}));
  EXPECT_FALSE(failed.contains("usage"));
  EXPECT_FALSE(out.contains("results"));

  HttpResponse sync = Generate(SyncBody("qwen-image-2.0", "x [sim:task_fail=InternalError]"));
  EXPECT_EQ(sync.status, 500);
  EXPECT_EQ(sync.Json()["code"], "InternalError");
}

TEST_F(LimitsFaultsTest, PartialFailureMarker) {
  StartSim();
  HttpResponse r = Generate(SyncBody("qwen-image-2.0", "x [sim:partial=1]", {{"n", 3}, {"size", "512*512"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.Json();
  EXPECT_EQ(j["output"]["choices"][0]["message"]["content"].size(), 2u);
  EXPECT_EQ(j["usage"]["image_count"], 2);
  // With n = 1 (async models), partial failure of every image is a FAILED task.
  std::string id = CreateTask(AsyncBody("qwen-image", "x [sim:partial=1]"));
  EXPECT_EQ(WaitForStatus(id, "FAILED")["output"]["code"], "DataInspectionFailed");
}

TEST_F(LimitsFaultsTest, PartialProbabilityOnSingleImageFailsTheCall) {
  options_.faults["generation"].partial = 1.0;
  StartSim();
  HttpResponse r = Generate(SyncBody("qwen-image-max", "y"));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json()["code"], "DataInspectionFailed");
}

TEST_F(LimitsFaultsTest, DeliveryMarkers) {
  StartSim();
  HttpResponse slow = Generate(SyncBody("qwen-image-max", "x [sim:slow=200ms]"));
  EXPECT_EQ(slow.status, 200);
  EXPECT_TRUE(slow.Json().is_object());

  HttpResponse malformed = Generate(SyncBody("qwen-image-max", "x [sim:malformed]"));
  EXPECT_EQ(malformed.status, 200);
  EXPECT_FALSE(malformed.body.empty());
  EXPECT_TRUE(malformed.Json().is_discarded());

  HttpResponse reset = Create(AsyncBody("qwen-image", "x [sim:reset]"));
  EXPECT_NE(reset.curl_code, 0);

  HttpResponse hang = Http("POST", Url("/services/aigc/multimodal-generation/generation"),
                           SyncBody("qwen-image-max", "x [sim:hang]").dump(),
                           {"Authorization: Bearer sk-simulator"}, /*timeout_ms=*/300);
  EXPECT_EQ(hang.curl_code, 28);  // CURLE_OPERATION_TIMEDOUT

  json stats = Stats();
  EXPECT_EQ(stats["requests"]["image-synthesis"]["reset"], 1);
  EXPECT_EQ(stats["requests"]["generation"]["hang"], 1);
}

TEST_F(LimitsFaultsTest, ClientsLeavingBeforeTheReplyDoNotHurt) {
  options_.task_duration = {absl::Milliseconds(300), absl::Milliseconds(300)};
  StartSim();
  for (int i = 0; i < 3; ++i) {
    HttpResponse gone = Http("POST", Url("/services/aigc/multimodal-generation/generation"),
                             SyncBody("qwen-image-max", "impatient").dump(),
                             {"Authorization: Bearer sk-simulator"}, /*timeout_ms=*/50);
    EXPECT_EQ(gone.curl_code, 28);  // CURLE_OPERATION_TIMEDOUT
  }
  // The held replies fire into closed connections; the simulator keeps serving.
  ASSERT_TRUE(WaitUntil([&] { return Running("qwen-image-max") == 0; }));
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", "patient")).status, 200);
}

TEST_F(LimitsFaultsTest, ProbabilityFaultsPerEndpoint) {
  options_.faults["task_get"].internal_error = 1.0;
  options_.faults["*"].unavailable = 1.0;
  StartSim();
  HttpResponse get = GetTask("x");
  EXPECT_EQ(get.status, 500);
  EXPECT_EQ(get.Json()["code"], "InternalError");
  HttpResponse list = List("");
  EXPECT_EQ(list.status, 503);
  EXPECT_EQ(list.Json()["code"], "ModelUnavailable");
}

TEST_F(LimitsFaultsTest, KeyRevokedMidRun) {
  StartSim();
  EXPECT_EQ(GetTask("x").status, 200);
  EXPECT_EQ(Http("POST", Root("/__keys/revoke?key=sk-simulator")).status, 200);
  EXPECT_EQ(GetTask("x").status, 401);
  EXPECT_EQ(Generate(SyncBody("qwen-image", "a")).Json()["code"], "InvalidApiKey");
  EXPECT_EQ(Http("POST", Root("/__keys/add?key=sk-simulator")).status, 200);
  EXPECT_EQ(GetTask("x").status, 200);
}

TEST_F(LimitsFaultsTest, StatsCountAndReset) {
  StartSim();
  ASSERT_EQ(Generate(SyncBody("qwen-image-max", "s")).status, 200);
  std::string id = CreateTask(AsyncBody("qwen-image", "a"));
  WaitForStatus(id, "SUCCEEDED");
  EXPECT_EQ(Generate(SyncBody("nope", "s")).status, 400);
  json s = Stats();
  EXPECT_EQ(s["requests"]["generation"]["200"], 1);
  EXPECT_EQ(s["requests"]["generation"]["400"], 1);
  EXPECT_EQ(s["requests"]["image-synthesis"]["200"], 1);
  EXPECT_GE(s["requests"]["task_get"]["200"].get<int64_t>(), 1);
  EXPECT_EQ(s["creates"], (json{{"async", 1}, {"sync", 1}}));
  EXPECT_EQ(s["tasks"]["SUCCEEDED"], 1);
  EXPECT_EQ(s["peak_running"]["qwen-image"], 1);
  EXPECT_EQ(s["peak_running"]["qwen-image-max"], 1);
  EXPECT_EQ(s["throttled"], 0);

  EXPECT_EQ(Http("POST", Root("/__reset?tasks=1")).status, 200);
  s = Stats();
  EXPECT_TRUE(s["requests"].empty());
  EXPECT_EQ(s["creates"], (json{{"async", 0}, {"sync", 0}}));
  EXPECT_EQ(s["tasks"]["SUCCEEDED"], 0);
  EXPECT_EQ(s["peak_running"]["qwen-image"], 0);
}

}  // namespace
}  // namespace qwenimage::simulator
