#include "service/http/curl_http_client.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/http/test_http_server.h"

namespace qwenimage::http {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

// Collects one callback's result.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<HttpResponse> result = absl::UnknownError("not run");
  std::thread::id thread;

  HttpCallback Callback() {
    return [this](absl::StatusOr<HttpResponse> r) {
      result = std::move(r);
      thread = std::this_thread::get_id();
      done.Notify();
    };
  }
  const absl::StatusOr<HttpResponse>& Wait() {
    done.WaitForNotification();
    return result;
  }
};

class CurlHttpClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<CurlHttpClient> NewClient(CurlHttpClient::Options options = {}) {
    auto client = CurlHttpClient::Create(std::move(options));
    EXPECT_NE(client, nullptr);
    return client;
  }
  HttpRequest Get(absl::string_view path) {
    HttpRequest r;
    r.url = server_.Url(path);
    return r;
  }

  TestHttpServer server_;
};

TEST_F(CurlHttpClientTest, GetReturnsStatusHeadersAndBody) {
  auto client = NewClient();
  HttpRequest request = Get("/echo?status=203");
  request.headers.emplace_back("X-Foo", "bar");
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 203);
  EXPECT_EQ(r->Header("x-method"), "GET");
  EXPECT_EQ(r->Header("X-GOT-FOO"), "bar");
  EXPECT_THAT(r->headers, Contains(Pair("x-got-foo", "bar")));  // names lowercased
  EXPECT_EQ(r->body, "");
}

TEST_F(CurlHttpClientTest, PostSendsBodyAndContentType) {
  auto client = NewClient();
  HttpRequest request = Get("/echo");
  request.method = "POST";
  request.body = R"({"a":1})";
  request.headers.emplace_back("Content-Type", "application/json");
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("x-method"), "POST");
  EXPECT_EQ(r->Header("x-got-content-type"), "application/json");
  EXPECT_EQ(r->body, R"({"a":1})");
}

TEST_F(CurlHttpClientTest, EmptyPostHasNoFormContentType) {
  auto client = NewClient();
  HttpRequest request = Get("/echo");
  request.method = "POST";
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Header("x-method"), "POST");
  EXPECT_EQ(r->Header("x-got-content-type"), "(none)");
}

TEST_F(CurlHttpClientTest, CallbackRunsOnLoopThreadNotInline) {
  auto client = NewClient();
  Outcome out;
  client->Send(Get("/echo"), out.Callback());
  out.Wait();
  EXPECT_NE(out.thread, std::this_thread::get_id());
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseOneConnection) {
  auto client = NewClient();
  for (int i = 0; i < 5; ++i) {
    Outcome out;
    client->Send(Get("/echo"), out.Callback());
    ASSERT_TRUE(out.Wait().ok()) << out.result.status();
  }
  EXPECT_EQ(server_.Connections(), 1);
}

TEST_F(CurlHttpClientTest, TimeoutAfterSendingIsDeadlineExceededAndMaybeSent) {
  auto client = NewClient();
  HttpRequest request = Get("/hang");
  request.timeout = absl::Milliseconds(200);
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(RequestMayHaveBeenSent(r.status()));
}

TEST_F(CurlHttpClientTest, CancelCompletesWithCancelled) {
  auto client = NewClient();
  Outcome out;
  const uint64_t id = client->Send(Get("/hang"), out.Callback());
  server_.WaitForParked(1);
  client->Cancel(id);
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(RequestMayHaveBeenSent(r.status()));
  client->Cancel(id);  // already done: no-op
}

TEST_F(CurlHttpClientTest, ConnectionRefusedIsUnavailableAndNotSent) {
  auto client = NewClient();
  RefusingPort refusing;
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(refusing.port()) + "/echo";
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(RequestMayHaveBeenSent(r.status()));
}

TEST_F(CurlHttpClientTest, TlsHandshakeFailureIsUnavailableAndNotSent) {
  auto client = NewClient();
  HttpRequest request = Get("/echo");
  request.url.replace(0, 4, "https");  // the server speaks plain HTTP: no handshake possible
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(RequestMayHaveBeenSent(r.status()));
}

TEST_F(CurlHttpClientTest, ResponseOverCapIsResourceExhausted) {
  auto client = NewClient();
  HttpRequest request = Get("/big?n=100000");
  request.max_response_bytes = 1000;
  Outcome out;
  client->Send(std::move(request), out.Callback());
  EXPECT_EQ(out.Wait().status().code(), absl::StatusCode::kResourceExhausted);

  HttpRequest fits = Get("/big?n=1000");
  fits.max_response_bytes = 1000;
  Outcome ok;
  client->Send(std::move(fits), ok.Callback());
  ASSERT_TRUE(ok.Wait().ok()) << ok.result.status();
  EXPECT_EQ(ok.result->body.size(), 1000u);
}

TEST_F(CurlHttpClientTest, ManyConcurrentRequestsOnOneLoop) {
  CurlHttpClient::Options options;
  options.max_connections_per_host = 8;
  auto client = NewClient(options);
  constexpr int kRequests = 200;
  absl::BlockingCounter pending(kRequests);
  absl::Mutex mu;
  int ok = 0;
  std::vector<std::thread::id> threads;
  for (int i = 0; i < kRequests; ++i) {
    HttpRequest request = Get("/echo");
    request.method = "POST";
    request.body = std::to_string(i);
    client->Send(std::move(request), [&, i](absl::StatusOr<HttpResponse> r) {
      {
        absl::MutexLock lock(&mu);
        if (r.ok() && r->body == std::to_string(i)) ++ok;
        threads.push_back(std::this_thread::get_id());
      }
      pending.DecrementCount();
    });
  }
  pending.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(ok, kRequests);
  for (const auto& t : threads) EXPECT_EQ(t, threads.front());
  EXPECT_LE(server_.Connections(), 8);
}

TEST_F(CurlHttpClientTest, DestructorCancelsOutstandingRequests) {
  auto client = NewClient();
  Outcome out;
  client->Send(Get("/hang"), out.Callback());
  server_.WaitForParked(1);
  client.reset();
  ASSERT_TRUE(out.done.HasBeenNotified());
  EXPECT_EQ(out.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(RequestMayHaveBeenSent(out.result.status()));
}

TEST_F(CurlHttpClientTest, CallbackMaySendAnotherRequest) {
  auto client = NewClient();
  Outcome second;
  Outcome first;
  client->Send(Get("/echo"), [&](absl::StatusOr<HttpResponse> r) {
    client->Send(Get("/echo?status=201"), second.Callback());
    first.Callback()(std::move(r));
  });
  ASSERT_TRUE(first.Wait().ok());
  ASSERT_TRUE(second.Wait().ok());
  EXPECT_EQ(second.result->status, 201);
}

TEST_F(CurlHttpClientTest, PublicOnlyRefusesLoopbackBeforeConnecting) {
  auto client = NewClient();
  HttpRequest request = Get("/echo");
  request.address_policy = AddressPolicy::kPublicOnly;
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_FALSE(RequestMayHaveBeenSent(r.status()));
  EXPECT_THAT(r.status().message(), HasSubstr("refused to connect to loopback address 127.0.0.1"));
  EXPECT_EQ(server_.Connections(), 0);
}

// The name passes any name-based check; only the connect-time check sees where it leads.
TEST_F(CurlHttpClientTest, PublicOnlyRefusesANameThatResolvesToLoopback) {
  auto client = NewClient();
  HttpRequest request = Get("/echo");
  request.url.replace(request.url.find("127.0.0.1"), 9, "localhost");
  request.address_policy = AddressPolicy::kPublicOnly;
  Outcome out;
  client->Send(std::move(request), out.Callback());
  const auto& r = out.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_FALSE(RequestMayHaveBeenSent(r.status()));
  EXPECT_THAT(r.status().message(), HasSubstr("loopback address"));
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(CurlHttpClientTest, PublicOrLoopbackAdmitsLoopback) {
  auto client = NewClient();
  for (AddressPolicy policy : {AddressPolicy::kPublicOrLoopback, AddressPolicy::kAny}) {
    HttpRequest request = Get("/echo");
    request.address_policy = policy;
    Outcome out;
    client->Send(std::move(request), out.Callback());
    const auto& r = out.Wait();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }
}

// A connection opened by an unchecked request stays in the cache; a checked request must not
// ride on it to an address its policy refuses.
TEST_F(CurlHttpClientTest, ReusedConnectionIsCheckedAgain) {
  auto client = NewClient();
  Outcome first;
  client->Send(Get("/echo"), first.Callback());
  ASSERT_TRUE(first.Wait().ok()) << first.result.status();

  HttpRequest checked = Get("/echo");
  checked.address_policy = AddressPolicy::kPublicOnly;
  Outcome second;
  client->Send(std::move(checked), second.Callback());
  const auto& r = second.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_FALSE(RequestMayHaveBeenSent(r.status()));
  EXPECT_THAT(r.status().message(),
              HasSubstr("refused to send on a connection to loopback address 127.0.0.1"));
  // The peer check, not a fresh connect, refused it: it runs before any request byte.

  // curl drops a connection whose request a callback aborted; unchecked requests go on.
  Outcome third;
  client->Send(Get("/echo"), third.Callback());
  ASSERT_TRUE(third.Wait().ok()) << third.result.status();
}

TEST(RequestMayHaveBeenSentTest, MarksOnlyErrors) {
  EXPECT_FALSE(RequestMayHaveBeenSent(absl::UnavailableError("x")));
  EXPECT_TRUE(RequestMayHaveBeenSent(MarkRequestMayHaveBeenSent(absl::UnavailableError("x"))));
  EXPECT_FALSE(RequestMayHaveBeenSent(MarkRequestMayHaveBeenSent(absl::OkStatus())));
}

}  // namespace
}  // namespace qwenimage::http
