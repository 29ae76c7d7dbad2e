#include "service/dashscope/dashscope_client.h"

#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/dashscope/api_key.h"
#include "service/dashscope/errors.h"
#include "service/http/curl_http_client.h"
#include "tests/unit/dashscope/fake_http_client.h"

namespace qwenimage::dashscope {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using Kind = UpstreamError::Kind;

constexpr char kKey[] = "sk-secret-0123456789";
constexpr char kBase[] = "https://dashscope-intl.aliyuncs.com/api/v1";

// Holds a callback's result.
template <typename T>
struct Result {
  std::optional<absl::StatusOr<T>> value;
  UpstreamCallback<T> Callback() {
    return [this](absl::StatusOr<T> r) { value = std::move(r); };
  }
  UpstreamError Error() const {
    EXPECT_TRUE(value.has_value());
    EXPECT_FALSE(value->ok());
    EXPECT_THAT(value->status().ToString(), Not(HasSubstr(kKey)));
    return GetUpstreamError(value->status()).value_or(UpstreamError{});
  }
};

GenerationParams Params(std::string model) {
  GenerationParams p;
  p.model = std::move(model);
  p.prompt = "a lighthouse";
  p.size = "1664*928";
  return p;
}

class DashScopeClientTest : public ::testing::Test {
 protected:
  DashScopeClientTest() : client_(http_, MakeOptions()) {}

  static DashScopeClient::Options MakeOptions() {
    DashScopeClient::Options o;
    o.base_url = std::string(kBase) + "/";  // a trailing slash must not double up
    o.api_key = kKey;
    o.max_image_bytes = 1234;
    return o;
  }
  bool HasHeader(const std::string& name, const std::string& value) const {
    for (const auto& [n, v] : http_.last().headers) {
      if (absl::EqualsIgnoreCase(n, name) && v == value) return true;
    }
    return false;
  }
  bool HasHeaderNamed(const std::string& name) const {
    for (const auto& [n, v] : http_.last().headers) {
      if (absl::EqualsIgnoreCase(n, name)) return true;
    }
    return false;
  }

  http::FakeHttpClient http_;
  DashScopeClient client_;
};

TEST_F(DashScopeClientTest, GenerateSendsSyncRequest) {
  Result<UpstreamTask> result;
  client_.Generate(Params("qwen-image-max"), result.Callback());
  ASSERT_EQ(http_.calls().size(), 1u);
  const http::HttpRequest& r = http_.last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, std::string(kBase) + "/services/aigc/multimodal-generation/generation");
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kKey));
  EXPECT_TRUE(HasHeader("Content-Type", "application/json"));
  EXPECT_TRUE(HasHeaderNamed("User-Agent"));
  EXPECT_FALSE(HasHeaderNamed("X-DashScope-Async"));
  EXPECT_EQ(r.timeout, absl::Seconds(300));
  EXPECT_EQ(r.connect_timeout, absl::Seconds(10));
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["input"]["messages"][0]["content"][0]["text"], "a lighthouse");
  EXPECT_FALSE(result.value.has_value());  // not inline

  http_.Reply(200, R"({"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant",
      "content":[{"image":"https://x.aliyuncs.com/a.png"}]}}],"task_metric":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},
      "usage":{"width":1664,"height":928,"image_count":1},"request_id":"rid"})");
  ASSERT_TRUE(result.value.has_value() && result.value->ok());
  EXPECT_EQ((*result.value)->images.at(0).url, "https://x.aliyuncs.com/a.png");
  EXPECT_EQ((*result.value)->request_id, "rid");
}

TEST_F(DashScopeClientTest, CreateTaskSendsAsyncHeader) {
  Result<CreatedTask> result;
  client_.CreateTask(Params("qwen-image-plus"), result.Callback());
  const http::HttpRequest& r = http_.last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, std::string(kBase) + "/services/aigc/text2image/image-synthesis");
  EXPECT_TRUE(HasHeader("X-DashScope-Async", "enable"));
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kKey));
  EXPECT_EQ(r.timeout, absl::Seconds(30));
  EXPECT_EQ(nlohmann::json::parse(r.body)["input"]["prompt"], "a lighthouse");
  http_.Reply(200, R"({"output":{"task_status":"PENDING","task_id":"t-1"},"request_id":"r-1"})");
  ASSERT_TRUE(result.value->ok()) << result.value->status();
  EXPECT_EQ((*result.value)->task_id, "t-1");
}

TEST_F(DashScopeClientTest, GetTaskIsPlainGet) {
  Result<UpstreamTask> result;
  client_.GetTask("t-1", result.Callback());
  const http::HttpRequest& r = http_.last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, std::string(kBase) + "/tasks/t-1");
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(HasHeaderNamed("X-DashScope-Async"));
  EXPECT_FALSE(HasHeaderNamed("Content-Type"));
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kKey));
  http_.Reply(200, R"({"request_id":"r","output":{"task_id":"t-1","task_status":"RUNNING"}})");
  ASSERT_TRUE(result.value->ok());
  EXPECT_EQ((*result.value)->status, TaskStatus::kRunning);
}

TEST_F(DashScopeClientTest, ListTasksBuildsQuery) {
  Result<TaskListPage> result;
  TaskListQuery q;
  q.status = TaskStatus::kPending;
  client_.ListTasks(q, result.Callback());
  EXPECT_EQ(http_.last().method, "GET");
  EXPECT_EQ(http_.last().url, std::string(kBase) + "/tasks?page_no=1&page_size=10&status=PENDING");
  http_.Reply(200, R"({"total":0,"total_page":0,"page_no":1,"page_size":10,"request_id":"r","data":[]})");
  ASSERT_TRUE(result.value->ok());
}

TEST_F(DashScopeClientTest, CancelTaskPostsEmptyBody) {
  Result<std::string> result;
  client_.CancelTask("t-1", result.Callback());
  EXPECT_EQ(http_.last().method, "POST");
  EXPECT_EQ(http_.last().url, std::string(kBase) + "/tasks/t-1/cancel");
  EXPECT_TRUE(http_.last().body.empty());
  EXPECT_FALSE(HasHeaderNamed("Content-Type"));
  http_.Reply(200, R"({"request_id":"45ac7f13"})");
  ASSERT_TRUE(result.value->ok());
  EXPECT_EQ(**result.value, "45ac7f13");
}

TEST_F(DashScopeClientTest, CancelOfRunningTaskIsTerminal) {
  Result<std::string> result;
  client_.CancelTask("t-1", result.Callback());
  http_.Reply(400, R"({"request_id":"r","code":"UnsupportedOperation","message":"Failed to cancel the task, please confirm if the task is in PENDING status."})");
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "UnsupportedOperation");
  EXPECT_EQ(e.kind, Kind::kTerminal);
  EXPECT_EQ(result.value->status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DashScopeClientTest, ThrottlingKeepsRequestIdAndRetryAfter) {
  Result<CreatedTask> result;
  client_.CreateTask(Params("qwen-image-plus"), result.Callback());
  http_.Reply(429, R"({"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."})",
              {{"x-request-id", "hdr-rid"}, {"retry-after", "2"}});
  UpstreamError e = result.Error();
  EXPECT_EQ(e.kind, Kind::kThrottled);
  EXPECT_EQ(e.http_status, 429);
  EXPECT_EQ(e.code, "Throttling.RateQuota");
  EXPECT_EQ(e.request_id, "hdr-rid");
  EXPECT_EQ(e.retry_after, absl::Seconds(2));
  EXPECT_EQ(result.value->status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(DashScopeClientTest, NonJsonErrorIsUnknown) {
  Result<UpstreamTask> result;
  client_.GetTask("t", result.Callback());
  http_.Reply(504, "<html>Gateway Timeout</html>");
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "Unknown");
  EXPECT_EQ(e.kind, Kind::kRetryable);
}

// dashscope-api.md §6: a billed call answered by a proxy's page may have done its work.
TEST_F(DashScopeClientTest, ProxyErrorPageOnABilledCallIsOutcomeUnknown) {
  Result<CreatedTask> create;
  client_.CreateTask(Params("qwen-image-plus"), create.Callback());
  http_.Reply(502, "<html><title>502 Bad Gateway</title></html>");
  EXPECT_EQ(create.Error().kind, Kind::kOutcomeUnknown);
  EXPECT_FALSE(create.Error().caller_may_retry);

  Result<UpstreamTask> sync;
  client_.Generate(Params("qwen-image-max"), sync.Callback());
  http_.Reply(504, "");
  EXPECT_EQ(sync.Error().kind, Kind::kOutcomeUnknown);
  EXPECT_EQ(sync.value->status().code(), absl::StatusCode::kUnknown);
}

// DashScope's own JSON 5xx says no work was done: a billed call may be sent again.
TEST_F(DashScopeClientTest, DashScopeServerErrorOnABilledCallIsRetryable) {
  Result<CreatedTask> create;
  client_.CreateTask(Params("qwen-image-plus"), create.Callback());
  http_.Reply(500, R"({"request_id":"r","code":"InternalError","message":"try again"})");
  EXPECT_EQ(create.Error().kind, Kind::kRetryable);
  EXPECT_EQ(create.Error().request_id, "r");
}

TEST_F(DashScopeClientTest, InvalidKeyNeverEchoesKey) {
  Result<UpstreamTask> result;
  client_.Generate(Params("qwen-image-max"), result.Callback());
  // As if a proxy echoed the Authorization header into its error.
  http_.Reply(401, std::string(R"({"code":"InvalidApiKey","message":"Invalid API-key provided: Bearer )") +
                       kKey + R"("})");
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "InvalidApiKey");
  EXPECT_THAT(e.message, Not(HasSubstr(kKey)));
  // The gateway's key is refused: the operator's problem, INTERNAL to a caller.
  EXPECT_EQ(e.kind, Kind::kCredentials);
  EXPECT_EQ(result.value->status().code(), absl::StatusCode::kInternal);
}

TEST_F(DashScopeClientTest, TransportErrorNotSentIsRetryable) {
  Result<CreatedTask> result;
  client_.CreateTask(Params("qwen-image-plus"), result.Callback());
  http_.Fail(absl::UnavailableError("Couldn't connect to server"));
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "Transport");
  EXPECT_EQ(e.kind, Kind::kRetryable);
  EXPECT_EQ(e.http_status, 0);
}

TEST_F(DashScopeClientTest, CreateTimeoutAfterSendingIsOutcomeUnknown) {
  Result<CreatedTask> result;
  client_.CreateTask(Params("qwen-image-plus"), result.Callback());
  http_.Fail(http::MarkRequestMayHaveBeenSent(absl::DeadlineExceededError("timed out")));
  EXPECT_EQ(result.Error().kind, Kind::kOutcomeUnknown);
  EXPECT_EQ(result.value->status().code(), absl::StatusCode::kUnknown);

  Result<UpstreamTask> sync;
  client_.Generate(Params("qwen-image-max"), sync.Callback());
  http_.Fail(http::MarkRequestMayHaveBeenSent(absl::UnavailableError("reset")));
  EXPECT_EQ(sync.Error().kind, Kind::kOutcomeUnknown);
}

TEST_F(DashScopeClientTest, GetTimeoutIsRetryable) {
  Result<UpstreamTask> result;
  client_.GetTask("t", result.Callback());
  http_.Fail(http::MarkRequestMayHaveBeenSent(absl::DeadlineExceededError("timed out")));
  EXPECT_EQ(result.Error().kind, Kind::kRetryable);
}

TEST_F(DashScopeClientTest, MalformedReplyDependsOnIdempotence) {
  Result<UpstreamTask> get;
  client_.GetTask("t", get.Callback());
  http_.Reply(200, R"({"request_id":"r","output":{"task_id":"t","task_st)", {{"x-request-id", "h"}});
  UpstreamError e = get.Error();
  EXPECT_EQ(e.code, "MalformedResponse");
  EXPECT_EQ(e.kind, Kind::kRetryable);
  EXPECT_EQ(e.request_id, "h");

  Result<CreatedTask> create;
  client_.CreateTask(Params("qwen-image-plus"), create.Callback());
  http_.Reply(200, "{\"output\":");
  EXPECT_EQ(create.Error().kind, Kind::kOutcomeUnknown);
  EXPECT_EQ(create.Error().code, "MalformedResponse");
}

TEST_F(DashScopeClientTest, DownloadHasNoApiKeyAndIsCapped) {
  Result<std::string> result;
  client_.Download("https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/a.png?Expires=1",
                   result.Callback());
  const http::HttpRequest& r = http_.last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_FALSE(HasHeaderNamed("Authorization"));
  EXPECT_EQ(r.max_response_bytes, 1234u);
  http_.Reply(200, "\x89PNG");
  ASSERT_TRUE(result.value->ok());
  EXPECT_EQ(**result.value, "\x89PNG");
}

TEST_F(DashScopeClientTest, DownloadTooLargeIsTerminal) {
  Result<std::string> result;
  client_.Download("https://x.aliyuncs.com/a.png", result.Callback());
  http_.Fail(http::MarkRequestMayHaveBeenSent(absl::ResourceExhaustedError("too big")));
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "ResponseTooLarge");
  EXPECT_EQ(e.kind, Kind::kTerminal);
}

TEST_F(DashScopeClientTest, DownloadExpiredUrlIsTerminal) {
  Result<std::string> result;
  client_.Download("https://x.aliyuncs.com/a.png", result.Callback());
  http_.Reply(403, "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>");
  EXPECT_EQ(result.Error().kind, Kind::kTerminal);
}

TEST_F(DashScopeClientTest, DisallowedDownloadFailsWithoutRequestAndNotInline) {
  absl::Notification done;
  std::optional<absl::StatusOr<std::string>> value;
  const std::thread::id test_thread = std::this_thread::get_id();
  std::thread::id callback_thread;
  client_.Download("http://169.254.169.254/latest/meta-data", [&](absl::StatusOr<std::string> r) {
    callback_thread = std::this_thread::get_id();
    value = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_NE(callback_thread, test_thread);  // never inline
  EXPECT_TRUE(http_.calls().empty());
  auto e = GetUpstreamError(value->status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "DownloadNotAllowed");
  EXPECT_EQ(e->kind, Kind::kTerminal);
}

TEST(DashScopeClientLoopbackTest, LoopbackDownloadsWhenAllowed) {
  http::FakeHttpClient http;
  DashScopeClient::Options o;
  o.base_url = "http://127.0.0.1:1/api/v1";
  o.allow_loopback_downloads = true;
  DashScopeClient client(http, o);
  client.Download("http://127.0.0.1:8080/img/1.png", [](absl::StatusOr<std::string>) {});
  ASSERT_EQ(http.calls().size(), 1u);
  EXPECT_EQ(http.last().url, "http://127.0.0.1:8080/img/1.png");
}

TEST(DashScopeClientAddressTest, DownloadsCarryTheConnectTimeAddressPolicy) {
  for (bool loopback : {false, true}) {
    http::FakeHttpClient http;
    DashScopeClient::Options o;
    o.base_url = kBase;
    o.allow_loopback_downloads = loopback;
    DashScopeClient client(http, o);
    client.Download("https://x.aliyuncs.com/a.png", [](absl::StatusOr<std::string>) {});
    ASSERT_EQ(http.calls().size(), 1u);
    EXPECT_EQ(http.last().address_policy, loopback ? http::AddressPolicy::kPublicOrLoopback
                                                   : http::AddressPolicy::kPublicOnly);
    client.GetTask("t-1", [](absl::StatusOr<UpstreamTask>) {});
    EXPECT_EQ(http.last().address_policy, http::AddressPolicy::kAny);  // API calls unchecked
  }
}

// The allowlist admits the name; only the connect-time check sees that it leads to loopback.
// Nothing listens on port 443 here, and nothing needs to: the connect is refused before a SYN.
TEST(DashScopeClientAddressTest, AllowlistedNameResolvingToLoopbackIsRefused) {
  std::unique_ptr<http::CurlHttpClient> http = http::CurlHttpClient::Create({});
  ASSERT_NE(http, nullptr);
  DashScopeClient::Options o;
  o.base_url = kBase;
  o.download_host_suffixes = {"localhost"};
  DashScopeClient client(*http, o);
  absl::Notification done;
  std::optional<absl::StatusOr<std::string>> value;
  client.Download("https://localhost/a.png?Signature=SECRET", [&](absl::StatusOr<std::string> r) {
    value = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_FALSE(value->ok());
  std::optional<UpstreamError> e = GetUpstreamError(value->status());
  ASSERT_TRUE(e.has_value()) << value->status();
  EXPECT_EQ(e->code, "DownloadNotAllowed");
  EXPECT_EQ(e->kind, Kind::kTerminal);
  EXPECT_THAT(e->message, HasSubstr("loopback address"));
  EXPECT_THAT(value->status().ToString(), Not(HasSubstr("SECRET")));
}

TEST(BaseUrlForRegionTest, Regions) {
  EXPECT_EQ(*BaseUrlForRegion("singapore"), "https://dashscope-intl.aliyuncs.com/api/v1");
  EXPECT_EQ(*BaseUrlForRegion("beijing"), "https://dashscope.aliyuncs.com/api/v1");
  EXPECT_EQ(BaseUrlForRegion("mars").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckBaseUrlTest, HttpsAnywhereHttpOnlyToLoopback) {
  EXPECT_TRUE(CheckBaseUrl("https://dashscope-intl.aliyuncs.com/api/v1").ok());
  EXPECT_TRUE(CheckBaseUrl("https://proxy.internal:8443/api/v1").ok());
  EXPECT_TRUE(CheckBaseUrl("http://127.0.0.1:8089/api/v1").ok());
  EXPECT_TRUE(CheckBaseUrl("http://127.9.9.9/api/v1").ok());
  EXPECT_TRUE(CheckBaseUrl("http://[::1]:8089/api/v1").ok());
  EXPECT_TRUE(CheckBaseUrl("http://localhost:8089/api/v1").ok());
  for (const char* refused :
       {"http://dashscope-intl.aliyuncs.com/api/v1", "http://10.0.0.5/api/v1",
        "http://localhost.evil.example/api/v1", "ftp://127.0.0.1/api/v1", "dashscope/api/v1",
        "https://user:SECRET@proxy/api/v1"}) {
    absl::Status s = CheckBaseUrl(refused);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << refused;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr("SECRET"))) << refused;
  }
}

// A client whose key comes from a holder that the test rotates.
class DashScopeClientKeyRotationTest : public DashScopeClientTest {
 protected:
  static constexpr char kNewKey[] = "sk-rotated-9876543210";

  DashScopeClientKeyRotationTest()
      : key_(std::make_shared<ApiKey>(kKey)), rotating_client_(http_, RotatingOptions(key_)) {}

  static DashScopeClient::Options RotatingOptions(std::shared_ptr<const ApiKey> key) {
    DashScopeClient::Options o = MakeOptions();
    o.api_key = "sk-ignored-when-a-source-is-set";
    o.api_key_source = std::move(key);
    return o;
  }

  std::shared_ptr<ApiKey> key_;
  DashScopeClient rotating_client_;
};

TEST_F(DashScopeClientKeyRotationTest, NextRequestCarriesTheNewKey) {
  Result<UpstreamTask> before;
  rotating_client_.GetTask("t-1", before.Callback());
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kKey));

  ASSERT_TRUE(key_->Set(kNewKey));
  Result<CreatedTask> after;
  rotating_client_.CreateTask(Params("qwen-image-plus"), after.Callback());
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kNewKey));
  EXPECT_FALSE(HasHeader("Authorization", std::string("Bearer ") + kKey));
  // The request already sent keeps the key it went out with.
  ASSERT_EQ(http_.calls().size(), 2u);
  EXPECT_THAT(http_.calls()[0].request.headers,
              Contains(Pair("Authorization", std::string("Bearer ") + kKey)));
  EXPECT_THAT(http_.calls()[1].request.headers,
              Not(Contains(Pair("Authorization", ::testing::HasSubstr("ignored")))));
}

TEST_F(DashScopeClientKeyRotationTest, RedactsTheCurrentAndThePreviousKey) {
  Result<UpstreamTask> result;
  rotating_client_.GetTask("t-1", result.Callback());  // sent with kKey
  ASSERT_TRUE(key_->Set(kNewKey));
  // A reply to the old request, as if a proxy echoed both keys it has seen.
  http_.Reply(401, std::string(R"({"code":"InvalidApiKey","message":"Bearer )") + kKey +
                       " then Bearer " + kNewKey + R"("})");
  UpstreamError e = result.Error();
  EXPECT_EQ(e.code, "InvalidApiKey");
  EXPECT_THAT(e.message, Not(HasSubstr(kKey)));
  EXPECT_THAT(e.message, Not(HasSubstr(kNewKey)));
  EXPECT_THAT(e.message, HasSubstr("[redacted]"));
  EXPECT_THAT(result.value->status().ToString(), Not(HasSubstr(kNewKey)));
}

TEST_F(DashScopeClientTest, PlainKeyOptionStillWorks) {
  Result<UpstreamTask> result;
  client_.GetTask("t-1", result.Callback());
  EXPECT_TRUE(HasHeader("Authorization", std::string("Bearer ") + kKey));
}

}  // namespace
}  // namespace qwenimage::dashscope
