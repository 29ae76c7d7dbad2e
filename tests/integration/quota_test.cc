// Tenant quotas through gRPC: each one refused as RESOURCE_EXHAUSTED with google.rpc QuotaFailure
// and RetryInfo details, the rejection metric, and max_running handing a freed slot to a
// waiting tenant. Tenants come from the x-qwenimage-tenant header (--auth=none), except where a
// token file's overrides and tenant labels are the point.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "service/auth/token_file.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

struct Details {
  bool has_quota_failure = false;
  google::rpc::QuotaFailure quota_failure;
  bool has_retry_info = false;
  google::rpc::RetryInfo retry_info;
};

Details ParseDetails(const grpc::Status& s) {
  Details d;
  google::rpc::Status status;
  EXPECT_TRUE(status.ParseFromString(s.error_details()));
  EXPECT_EQ(status.code(), s.error_code());
  for (const google::protobuf::Any& any : status.details()) {
    if (any.Is<google::rpc::QuotaFailure>()) {
      d.has_quota_failure = any.UnpackTo(&d.quota_failure);
    } else if (any.Is<google::rpc::RetryInfo>()) {
      d.has_retry_info = any.UnpackTo(&d.retry_info);
    }
  }
  return d;
}

int64_t RetrySeconds(const Details& d) { return d.retry_info.retry_delay().seconds(); }

class QuotaTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.metrics_listen = "127.0.0.1:0";
  }

  grpc::Status TryCreate(const std::string& tenant, int n = 1, const std::string& request_id = "",
                         v1::Task* task = nullptr, const std::string& token = "") {
    v1::CreateTaskRequest req;
    // qwen-image-plus (async) takes n = 1 only; qwen-image-2.0 takes up to 6.
    *req.mutable_spec() = Spec(n == 1 ? "qwen-image-plus" : "qwen-image-2.0", "a cat", n);
    req.set_request_id(request_id);
    v1::Task ignored;
    auto ctx = Context(tenant);
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return stub_->CreateTask(ctx.get(), req, task != nullptr ? task : &ignored);
  }

  // Asserts `s` is a quota refusal for `quota` of `tenant` and returns its details.
  Details ExpectQuotaRefusal(const grpc::Status& s, const std::string& tenant,
                             const std::string& quota, int limit) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    Details d = ParseDetails(s);
    EXPECT_TRUE(d.has_quota_failure);
    EXPECT_EQ(d.quota_failure.violations_size(), 1);
    if (d.quota_failure.violations_size() == 1) {
      const google::rpc::QuotaFailure::Violation& v = d.quota_failure.violations(0);
      EXPECT_EQ(v.subject(), "tenant:" + tenant);
      EXPECT_EQ(v.description(), quota + " quota (limit " + std::to_string(limit) + ")");
    }
    return d;
  }

  std::string Scrape() {
    return HttpGet("http://127.0.0.1:" + std::to_string(gateway_->metrics_port()) + "/metrics");
  }

  v1::Task GetTask(const std::string& tenant, const std::string& id) {
    v1::GetTaskRequest req;
    req.set_task_id(id);
    v1::Task task;
    grpc::Status s = stub_->GetTask(Context(tenant).get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  // Watches until the task leaves QUEUED; returns that state.
  v1::TaskState WatchUntilAdmitted(const std::string& tenant, const std::string& id) {
    v1::WatchTaskRequest req;
    req.set_task_id(id);
    auto ctx = Context(tenant);
    auto reader = stub_->WatchTask(ctx.get(), req);
    v1::TaskEvent event;
    v1::TaskState state = v1::TASK_STATE_UNSPECIFIED;
    while (reader->Read(&event)) {
      if (!event.has_task() || event.task().state() == v1::TASK_STATE_QUEUED) continue;
      state = event.task().state();
      ctx->TryCancel();
      break;
    }
    reader->Finish();
    return state;
  }
};

TEST_F(QuotaTest, CreatesPerMinuteIsResourceExhaustedWithQuotaFailureAndRetryInfo) {
  options_.tasks.tenant_defaults.creates_per_minute = 2;
  StartGateway();
  ASSERT_TRUE(TryCreate("team-a").ok());
  ASSERT_TRUE(TryCreate("team-a").ok());
  Details d = ExpectQuotaRefusal(TryCreate("team-a"), "team-a", "creates_per_minute", 2);
  ASSERT_TRUE(d.has_retry_info);
  EXPECT_GT(RetrySeconds(d) * 1000 + d.retry_info.retry_delay().nanos() / 1000000, 0);
  EXPECT_LE(RetrySeconds(d), 60);
  EXPECT_TRUE(TryCreate("team-b").ok());  // per tenant
  const std::string text = Scrape();
  EXPECT_EQ(SampleValue(text, R"(qwenimage_quota_rejections_total{quota="creates_per_minute"})"),
            1)
      << text;
  // Tenants are self-asserted (--auth=none): no tenant label.
  EXPECT_FALSE(absl::StrContains(text, "tenant=\"team-a\"")) << text;
}

TEST_F(QuotaTest, IdempotentRetryIsNeverRefused) {
  options_.tasks.tenant_defaults.creates_per_minute = 1;
  StartGateway();
  v1::Task first;
  ASSERT_TRUE(TryCreate("team-a", 1, "req-1", &first).ok());
  for (int i = 0; i < 3; ++i) {
    v1::Task again;
    grpc::Status s = TryCreate("team-a", 1, "req-1", &again);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(again.id(), first.id());
  }
  ExpectQuotaRefusal(TryCreate("team-a", 1, "req-2"), "team-a", "creates_per_minute", 1);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
}

TEST_F(QuotaTest, ImagesPerDayCountsRequestedImages) {
  options_.tasks.tenant_defaults.images_per_day = 3;
  StartGateway();
  ASSERT_TRUE(TryCreate("team-a", 2).ok());
  Details d = ExpectQuotaRefusal(TryCreate("team-a", 2), "team-a", "images_per_day", 3);
  ASSERT_TRUE(d.has_retry_info);
  EXPECT_GT(RetrySeconds(d), 23 * 3600);
  EXPECT_LE(RetrySeconds(d), 24 * 3600);
  // More than the whole day's limit: no wait helps, so no RetryInfo.
  d = ExpectQuotaRefusal(TryCreate("team-a", 4), "team-a", "images_per_day", 3);
  EXPECT_FALSE(d.has_retry_info);
  ASSERT_TRUE(TryCreate("team-a", 1).ok());
  EXPECT_EQ(SampleValue(Scrape(), R"(qwenimage_quota_rejections_total{quota="images_per_day"})"),
            2);
}

TEST_F(QuotaTest, MaxQueuedIsResourceExhaustedWithQuotaFailureAndRetryInfo) {
  options_.tasks.tenant_defaults.max_queued = 1;
  options_.tasks.scheduler.default_limits = {1, 0};
  options_.tasks.queue_ahead = 0;
  options_.simulator.task_duration = {absl::Seconds(60), absl::Seconds(60)};  // holds its slot
  StartGateway();
  ASSERT_TRUE(TryCreate("team-a").ok());  // admitted at once: the one slot
  v1::Task queued;
  ASSERT_TRUE(TryCreate("team-a", 1, "", &queued).ok());
  EXPECT_EQ(queued.state(), v1::TASK_STATE_QUEUED);
  Details d = ExpectQuotaRefusal(TryCreate("team-a"), "team-a", "max_queued", 1);
  ASSERT_TRUE(d.has_retry_info);
  EXPECT_GT(RetrySeconds(d), 0);
  EXPECT_TRUE(TryCreate("team-b").ok());  // another tenant's line
  EXPECT_EQ(SampleValue(Scrape(), R"(qwenimage_quota_rejections_total{quota="max_queued"})"), 1);
}

TEST_F(QuotaTest, MaxRunningGivesAFreedSlotToAWaitingTenant) {
  options_.tasks.tenant_defaults.max_running = 1;
  options_.tasks.scheduler.default_limits = {2, 0};
  options_.tasks.queue_ahead = 0;
  options_.simulator.task_duration = {absl::Seconds(60), absl::Seconds(60)};
  StartGateway();
  v1::Task a1, a2, a3, b1;
  ASSERT_TRUE(TryCreate("team-a", 1, "", &a1).ok());
  ASSERT_TRUE(TryCreate("team-a", 1, "", &a2).ok());  // nobody else waits: A's cap does not bind
  ASSERT_TRUE(TryCreate("team-a", 1, "", &a3).ok());
  EXPECT_EQ(a3.state(), v1::TASK_STATE_QUEUED);
  ASSERT_TRUE(TryCreate("team-b", 1, "", &b1).ok());
  EXPECT_EQ(b1.state(), v1::TASK_STATE_QUEUED);
  // A slot frees. A still holds one (its cap) while B waits: B's task goes first although A's
  // third came earlier.
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(a1.id());
  v1::Task cancelled;
  ASSERT_TRUE(stub_->CancelTask(Context("team-a").get(), cancel, &cancelled).ok());
  EXPECT_NE(WatchUntilAdmitted("team-b", b1.id()), v1::TASK_STATE_UNSPECIFIED);
  EXPECT_EQ(GetTask("team-a", a3.id()).state(), v1::TASK_STATE_QUEUED);
  // Upstream saw A's first two and B's: A's third was never sent.
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 3);
  // max_running delays, it never refuses.
  EXPECT_FALSE(absl::StrContains(Scrape(), "qwenimage_quota_rejections_total{"));
}

TEST_F(QuotaTest, TokenOverridesApplyAndMetricsCarryTheConfiguredTenant) {
  const std::string token = "tok-SECRET-quota-7f3a";  // tests/testing/test_secrets.txt
  const std::string tokens_file = data_dir_ + "_tokens.json";
  {
    const auth::TokenDigest digest = auth::DigestOf(token);
    std::ofstream out(tokens_file);
    out << R"({"tokens": [{"sha256": ")"
        << absl::BytesToHexString(absl::string_view(
               reinterpret_cast<const char*>(digest.data()), digest.size()))
        << R"(", "tenant": "team-q", "quotas": {"creates_per_minute": 1}}]})";
  }
  options_.auth_mode = auth::AuthMode::kTokens;
  options_.tokens_file = tokens_file;
  options_.tasks.tenant_defaults.creates_per_minute = 100;  // the token's override wins
  StartGateway();
  ASSERT_TRUE(TryCreate("", 1, "", nullptr, token).ok());
  ExpectQuotaRefusal(TryCreate("", 1, "", nullptr, token), "team-q", "creates_per_minute", 1);
  const std::string text = Scrape();
  EXPECT_EQ(
      SampleValue(text,
                  R"(qwenimage_quota_rejections_total{quota="creates_per_minute",tenant="team-q"})"),
      1)
      << text;
  std::remove(tokens_file.c_str());
}

}  // namespace
}  // namespace qwenimage::testing
