// The faults behind the gateway's billing-safety tests, over plain HTTP: work done but the reply
// replaced by a load balancer's HTML page ([sim:after=N]), requests read and dropped unanswered
// ([sim:drop]), Retry-After on 429s, and one-shot faults armed through POST /__faults/once.
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/unit/simulator/sim_test_util.h"

namespace qwenimage::simulator {
namespace {

using nlohmann::json;

constexpr int kCurlGotNothing = 52;  // CURLE_GOT_NOTHING: the server closed without a reply

class BillingFaultsTest : public SimulatorTest {
 protected:
  void SetUp() override {
    options_.task_duration = {absl::Milliseconds(30), absl::Milliseconds(60)};
    options_.pending_delay = absl::Milliseconds(5);
  }

  // POST /__faults/once?<query>.
  HttpResponse Arm(const std::string& query) {
    return Http("POST", Root("/__faults/once?" + query));
  }

  int64_t Count(const std::string& endpoint, const std::string& status) {
    json requests = Stats()["requests"];
    if (!requests.contains(endpoint) || !requests[endpoint].contains(status)) return 0;
    return requests[endpoint][status].get<int64_t>();
  }

  // A load balancer's page: the status, HTML, none of DashScope's JSON or request-id headers.
  static void ExpectGatewayPage(const HttpResponse& r, long status, const std::string& title) {
    EXPECT_EQ(r.curl_code, 0);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.headers.at("content-type"), "text/html");
    EXPECT_TRUE(absl::StrContains(r.body, "<title>" + title + "</title>")) << r.body;
    EXPECT_TRUE(r.Json().is_discarded()) << r.body;
    EXPECT_EQ(r.headers.count("x-request-id"), 0u);
    EXPECT_EQ(r.headers.count("x-dashscope-requestid"), 0u);
  }
};

TEST_F(BillingFaultsTest, AfterMarkerOnAsyncCreateMakesTheTaskButAnswersHtml) {
  StartSim();
  const std::string prompt = "a fox [sim:after=502]";
  HttpResponse r = Create(AsyncBody("qwen-image", prompt));
  ExpectGatewayPage(r, 502, "502 Bad Gateway");
  EXPECT_EQ(Stats()["creates"]["async"], 1);
  EXPECT_EQ(Count("image-synthesis", "502"), 1);

  // The task the client never heard of is there to be found, and it runs to the end.
  json listed = List("?model_name=qwen-image").Json();
  ASSERT_EQ(listed["total"], 1) << listed.dump();
  const std::string id = listed["data"][0]["task_id"];
  json done = WaitForStatus(id, "SUCCEEDED");
  ASSERT_EQ(done["output"]["task_status"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(done["output"]["results"][0]["orig_prompt"], prompt);
  HttpResponse png = Http("GET", done["output"]["results"][0]["url"].get<std::string>());
  EXPECT_EQ(png.status, 200);
  EXPECT_NE(PngSize(png.body).first, 0);
}

TEST_F(BillingFaultsTest, AfterMarkerOnSyncGenerationAnswersHtmlOnceTheWorkIsDone) {
  StartSim();
  HttpResponse r = Generate(SyncBody("qwen-image-max", "a fox [sim:after=504]"));
  ExpectGatewayPage(r, 504, "504 Gateway Time-out");
  // The page came only after the generation ran to its end: it was counted, it ran, it is over.
  json s = Stats();
  EXPECT_EQ(s["creates"]["sync"], 1);
  EXPECT_EQ(s["peak_running"]["qwen-image-max"], 1);
  EXPECT_EQ(s["running"]["qwen-image-max"], 0);
  EXPECT_EQ(Count("generation", "504"), 1);

  ExpectGatewayPage(Generate(SyncBody("qwen-image-2.0", "b [sim:after=408]")), 408,
                    "408 Request Time-out");
  EXPECT_EQ(Stats()["creates"]["sync"], 2);
}

TEST_F(BillingFaultsTest, AfterMarkerLeavesErrorsThatPrecedeTheWorkAlone) {
  StartSim();
  // No work was done, so DashScope's own JSON error gets through.
  HttpResponse r = Create(AsyncBody("qwen-image", "x [sim:moderation] [sim:after=502]"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["code"], "DataInspectionFailed");
  EXPECT_EQ(Stats()["creates"]["async"], 0);
}

TEST_F(BillingFaultsTest, DropMarkerClosesWithoutReplyAndDoesNoWork) {
  StartSim();
  HttpResponse async = Create(AsyncBody("qwen-image", "a fox [sim:drop]"));
  EXPECT_EQ(async.curl_code, kCurlGotNothing);
  HttpResponse sync = Generate(SyncBody("qwen-image-max", "a fox [sim:drop]"));
  EXPECT_EQ(sync.curl_code, kCurlGotNothing);

  json s = Stats();
  EXPECT_EQ(s["creates"], (json{{"async", 0}, {"sync", 0}}));
  EXPECT_EQ(s["requests"]["image-synthesis"], (json{{"drop", 1}}));
  EXPECT_EQ(s["requests"]["generation"], (json{{"drop", 1}}));
  EXPECT_EQ(List("").Json()["total"], 0);
  EXPECT_EQ(Create(AsyncBody("qwen-image", "a fox")).status, 200);  // still serving
}

TEST_F(BillingFaultsTest, RetryAfterMarkerOnEvery429OfTheRequest) {
  options_.limits = true;
  options_.submit_rate = {{"qwen-image", 0.001}};  // one create, then 429 for a long while
  StartSim();
  HttpResponse marked = Generate(SyncBody("qwen-image-max", "a [sim:status=429] [sim:retry_after=7]"));
  EXPECT_EQ(marked.status, 429);
  EXPECT_EQ(marked.headers["retry-after"], "7");
  HttpResponse coded = Create(AsyncBody("qwen-image", "a [sim:fail=Throttling.RateQuota] [sim:retry_after=3]"));
  EXPECT_EQ(coded.status, 429);
  EXPECT_EQ(coded.headers["retry-after"], "3");

  // The submit-rate limit's own 429 carries it too.
  EXPECT_EQ(Create(AsyncBody("qwen-image", "first")).status, 200);
  HttpResponse limited = Create(AsyncBody("qwen-image", "second [sim:retry_after=86400]"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Json()["code"], "Throttling.RateQuota");
  EXPECT_EQ(limited.headers["retry-after"], "86400");

  // Only 429s: and nothing without the marker.
  HttpResponse ok = Generate(SyncBody("qwen-image-max", "fine [sim:retry_after=7]"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.headers.count("retry-after"), 0u);
  HttpResponse plain = Create(AsyncBody("qwen-image", "third"));
  EXPECT_EQ(plain.status, 429);
  EXPECT_EQ(plain.headers.count("retry-after"), 0u);
}

TEST_F(BillingFaultsTest, OneShot429WithRetryAfterHitsExactlyCountRequests) {
  StartSim();
  HttpResponse armed = Arm("endpoint=task_get&status=429&retry_after=86400&count=2");
  ASSERT_EQ(armed.status, 200) << armed.body;
  EXPECT_EQ(armed.Json()["pending"], (json{{"task_get", 2}}));
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = GetTask("t");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.Json()["code"], "Throttling.RateQuota");
    EXPECT_EQ(r.headers["retry-after"], "86400");
    EXPECT_FALSE(r.headers["x-request-id"].empty());  // DashScope's own answer
  }
  HttpResponse normal = GetTask("t");
  EXPECT_EQ(normal.status, 200);
  EXPECT_EQ(normal.headers.count("retry-after"), 0u);
  EXPECT_EQ(List("").status, 200);  // other endpoints were never affected

  json s = Stats();
  EXPECT_EQ(s["requests"]["task_get"], (json{{"200", 1}, {"429", 2}}));
  EXPECT_FALSE(s["requests"].contains("admin"));
  EXPECT_EQ(Http("GET", Root("/__faults")).Json()["pending"], json::object());
}

TEST_F(BillingFaultsTest, OneShotFaultsOnTaskListAndCancel) {
  StartSim();
  ASSERT_EQ(Arm("endpoint=task_list&status=503").status, 200);
  ASSERT_EQ(Arm("endpoint=task_cancel&code=Throttling.Concurrency").status, 200);
  HttpResponse list = List("");
  EXPECT_EQ(list.status, 503);
  EXPECT_EQ(list.Json()["code"], "ModelUnavailable");
  HttpResponse cancel = Cancel("t");
  EXPECT_EQ(cancel.status, 429);
  EXPECT_EQ(cancel.Json()["code"], "Throttling.Concurrency");
  EXPECT_EQ(List("").status, 200);
  EXPECT_EQ(Cancel("t").Json()["code"], "UnsupportedOperation");
}

TEST_F(BillingFaultsTest, OneShotAfterAndDropOnCreates) {
  StartSim();
  ASSERT_EQ(Arm("endpoint=image-synthesis&after=502").status, 200);
  ASSERT_EQ(Arm("endpoint=generation&drop=1").status, 200);

  ExpectGatewayPage(Create(AsyncBody("qwen-image", "lost reply")), 502, "502 Bad Gateway");
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", "dropped")).curl_code, kCurlGotNothing);
  json s = Stats();
  EXPECT_EQ(s["creates"], (json{{"async", 1}, {"sync", 0}}));
  EXPECT_EQ(s["requests"]["generation"], (json{{"drop", 1}}));
  json listed = List("").Json();
  ASSERT_EQ(listed["total"], 1);
  json done = WaitForStatus(listed["data"][0]["task_id"], "SUCCEEDED");
  EXPECT_EQ(done["output"]["results"][0]["orig_prompt"], "lost reply");

  // Each was armed once; normal service resumes.
  EXPECT_EQ(Create(AsyncBody("qwen-image", "next")).status, 200);
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", "next")).status, 200);
}

TEST_F(BillingFaultsTest, ResetClearsArmedOneShotFaults) {
  StartSim();
  ASSERT_EQ(Arm("endpoint=task_get&status=500&count=5").status, 200);
  EXPECT_EQ(Http("GET", Root("/__faults")).Json()["pending"], (json{{"task_get", 5}}));
  ASSERT_EQ(Http("POST", Root("/__reset")).status, 200);
  EXPECT_EQ(Http("GET", Root("/__faults")).Json()["pending"], json::object());
  EXPECT_EQ(GetTask("t").status, 200);
}

TEST_F(BillingFaultsTest, BadOneShotCallsAre400) {
  StartSim();
  for (const std::string query :
       {"status=429", "endpoint=nope&status=429", "endpoint=task_get",
        "endpoint=task_get&status=429&after=502", "endpoint=generation&after=404",
        "endpoint=task_get&status=429&count=0", "endpoint=task_get&status=429&retry_after=x"}) {
    HttpResponse r = Arm(query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(r.Json()["code"], "InvalidParameter") << query;
  }
  EXPECT_EQ(Http("GET", Root("/__faults")).Json()["pending"], json::object());
  EXPECT_EQ(Http("GET", Root("/__faults/once?endpoint=task_get&status=429")).status, 404);
}

TEST_F(BillingFaultsTest, RandomRatesForAfterDropAndRetryAfter) {
  options_.faults["image-synthesis"].after[502] = 1.0;
  options_.faults["generation"].drop = 1.0;
  options_.faults["task_get"].throttle = 1.0;
  options_.faults["task_get"].retry_after = 30;
  StartSim();
  ExpectGatewayPage(Create(AsyncBody("qwen-image", "a")), 502, "502 Bad Gateway");
  EXPECT_EQ(Generate(SyncBody("qwen-image-max", "b")).curl_code, kCurlGotNothing);
  HttpResponse get = GetTask("t");
  EXPECT_EQ(get.status, 429);
  EXPECT_EQ(get.headers["retry-after"], "30");
  EXPECT_EQ(Stats()["creates"], (json{{"async", 1}, {"sync", 0}}));
}

TEST_F(BillingFaultsTest, RetryAfterRateOnTheTaskApiLimit) {
  options_.limits = true;
  options_.task_api_qps = 0.001;  // one call, then 429 for a long while
  options_.faults["task_get"].retry_after = 9;
  StartSim();
  EXPECT_EQ(GetTask("t").status, 200);
  HttpResponse limited = GetTask("t");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "9");
  HttpResponse list = List("");  // shares the QPS budget, but has no retry_after of its own
  EXPECT_EQ(list.status, 429);
  EXPECT_EQ(list.headers.count("retry-after"), 0u);
}

}  // namespace
}  // namespace qwenimage::simulator
