#include "service/dashscope/dashscope_client.h"

#include <deque>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "service/dashscope/download_policy.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "service/dashscope/request_builder.h"
#include "service/dashscope/response_parser.h"
#include "service/http/address_policy.h"
#include "service/http/url.h"

namespace qwenimage::dashscope {
namespace {

// Runs callbacks for failures detected before any HTTP call (a rejected download URL) off the
// caller's stack, honouring Upstream's "never inline" promise. Started on first use only.
class Deferrer {
 public:
  ~Deferrer() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  void Run(absl::AnyInvocable<void()> fn) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }

 private:
  void Loop() {
    while (true) {
      absl::AnyInvocable<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Deferrer::HasWorkOrStopping));
        if (queue_.empty()) return;  // stopping and drained
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }
  bool HasWorkOrStopping() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

absl::StatusOr<std::string> BodyAsIs(absl::string_view body) { return std::string(body); }

}  // namespace

struct DashScopeClient::Shared {
  Options options;
  std::shared_ptr<const ApiKey> api_key;  // never null
  DownloadPolicy download_policy;
  mutable Deferrer deferrer;

  // Upstream echoes nothing secret today; this keeps it so if a proxy ever echoes our headers.
  // Both the current key and the one it replaced, as a reply may predate a rotation.
  absl::Status Fail(UpstreamError error) const {
    error.message = api_key->Redact(std::move(error.message));
    return UpstreamErrorStatus(error);
  }

  // Turns an HTTP outcome into the parsed reply or an UpstreamError classified by failure.h;
  // `call` says whether the request was billed (and so must never be re-sent blindly).
  template <typename T>
  absl::StatusOr<T> Interpret(const absl::StatusOr<http::HttpResponse>& reply, CallKind call,
                              absl::StatusOr<T> (*parse)(absl::string_view)) const {
    using Shape = Answer::Shape;
    UpstreamError error;
    if (!reply.ok()) {
      error.code = "Transport";
      error.message = std::string(reply.status().message());
      Answer answer{Shape::kTransport, 0, error.code,
                    http::RequestMayHaveBeenSent(reply.status())};
      if (reply.status().code() == absl::StatusCode::kResourceExhausted) {
        error.code = "ResponseTooLarge";
        answer = {Shape::kTooLarge, 0, error.code};
      }
      Classify(call, answer, error);
      return Fail(std::move(error));
    }
    const std::string header_request_id(reply->Header("x-request-id"));
    if (reply->status < 200 || reply->status > 299) {
      bool from_dashscope = false;
      error = ParseErrorResponse(reply->status, reply->body, &from_dashscope);
      if (error.request_id.empty()) error.request_id = header_request_id;
      error.retry_after = ParseRetryAfter(reply->Header("retry-after"), absl::Now());
      Classify(call,
               {from_dashscope ? Shape::kDashScope : Shape::kForeign, reply->status, error.code},
               error);
      return Fail(std::move(error));
    }
    absl::StatusOr<T> parsed = parse(reply->body);
    if (parsed.ok()) return parsed;
    if (std::optional<UpstreamError> upstream = GetUpstreamError(parsed.status())) {
      // A 2xx carrying DashScope's error envelope.
      Classify(call, {Shape::kDashScope, reply->status, upstream->code}, *upstream);
      return Fail(*std::move(upstream));
    }
    // Truncated or unexpected: a GET can be repeated; a create may have produced a task.
    error.http_status = reply->status;
    error.code = "MalformedResponse";
    error.message = std::string(parsed.status().message());
    error.request_id = header_request_id;
    Classify(call, {Shape::kMalformed, reply->status, error.code}, error);
    return Fail(std::move(error));
  }

  template <typename T>
  static http::HttpCallback Handler(std::shared_ptr<const Shared> shared, CallKind call,
                                    absl::StatusOr<T> (*parse)(absl::string_view),
                                    UpstreamCallback<T> done) {
    return [shared = std::move(shared), call, parse,
            done = std::move(done)](absl::StatusOr<http::HttpResponse> reply) mutable {
      done(shared->Interpret<T>(reply, call, parse));
    };
  }
};

absl::StatusOr<std::string> BaseUrlForRegion(absl::string_view region) {
  if (region == "singapore") return std::string("https://dashscope-intl.aliyuncs.com/api/v1");
  if (region == "beijing") return std::string("https://dashscope.aliyuncs.com/api/v1");
  return absl::InvalidArgumentError(
      absl::StrCat("unknown region \"", region, "\" (expected singapore or beijing)"));
}

absl::Status CheckBaseUrl(absl::string_view url) {
  absl::StatusOr<http::UrlParts> parts = http::ParseUrl(url);
  if (!parts.ok()) return parts.status();
  if (parts->has_user_info) {
    return absl::InvalidArgumentError("the DashScope base URL must not carry user information");
  }
  if (parts->scheme == "https") return absl::OkStatus();
  if (parts->scheme != "http") {
    return absl::InvalidArgumentError("the DashScope base URL must be https");
  }
  const std::optional<http::IpRange> range = http::ClassifyIpLiteral(parts->host);
  if (parts->host == "localhost" || range == http::IpRange::kLoopback) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "the DashScope base URL must be https: plain http would send the API key in the clear "
      "(http is accepted only to a loopback address)");
}

DashScopeClient::DashScopeClient(http::HttpClient& http, Options options) : http_(http) {
  auto shared = std::make_shared<Shared>();
  shared->download_policy.host_suffixes = options.download_host_suffixes;
  shared->download_policy.allow_loopback = options.allow_loopback_downloads;
  shared->api_key = options.api_key_source != nullptr
                        ? std::move(options.api_key_source)
                        : std::make_shared<const ApiKey>(std::move(options.api_key));
  options.api_key_source = nullptr;
  options.api_key.clear();  // one source of truth: the holder
  shared->options = std::move(options);
  shared_ = std::move(shared);
}

http::HttpRequest DashScopeClient::ApiRequest(absl::string_view method, absl::string_view path,
                                              std::string body,
                                              absl::Duration timeout) const {
  const Options& o = shared_->options;
  http::HttpRequest r;
  r.method = std::string(method);
  r.url = absl::StrCat(absl::StripSuffix(o.base_url, "/"), "/", path);
  r.headers = {{"Authorization", absl::StrCat("Bearer ", shared_->api_key->Get())},
               {"Accept", "application/json"},
               {"User-Agent", o.user_agent}};
  if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  r.connect_timeout = o.connect_timeout;
  r.timeout = timeout;
  return r;
}

void DashScopeClient::Generate(const GenerationParams& params,
                               UpstreamCallback<UpstreamTask> done) {
  http::HttpRequest request = ApiRequest("POST", kGenerationPath, BuildGenerationBody(params),
                                         shared_->options.sync_timeout);
  request.idempotent = false;  // billed: never re-sent, not even by libcurl
  http_.Send(std::move(request),
             Shared::Handler<UpstreamTask>(shared_, CallKind::kBilled,
                                           &ParseGenerationResponse, std::move(done)));
}

void DashScopeClient::CreateTask(const GenerationParams& params,
                                 UpstreamCallback<CreatedTask> done) {
  http::HttpRequest request = ApiRequest("POST", kCreateTaskPath, BuildCreateTaskBody(params),
                                         shared_->options.request_timeout);
  request.headers.emplace_back("X-DashScope-Async", "enable");
  request.idempotent = false;  // billed: never re-sent, not even by libcurl
  http_.Send(std::move(request),
             Shared::Handler<CreatedTask>(shared_, CallKind::kBilled,
                                          &ParseCreateTaskResponse, std::move(done)));
}

void DashScopeClient::GetTask(const std::string& task_id, UpstreamCallback<UpstreamTask> done) {
  http_.Send(ApiRequest("GET", TaskPath(task_id), "", shared_->options.request_timeout),
             Shared::Handler<UpstreamTask>(shared_, CallKind::kFree, &ParseTaskResponse,
                                           std::move(done)));
}

void DashScopeClient::ListTasks(const TaskListQuery& query,
                                UpstreamCallback<TaskListPage> done) {
  http_.Send(ApiRequest("GET", TaskListPath(query), "", shared_->options.request_timeout),
             Shared::Handler<TaskListPage>(shared_, CallKind::kFree,
                                           &ParseTaskListResponse, std::move(done)));
}

void DashScopeClient::CancelTask(const std::string& task_id,
                                 UpstreamCallback<std::string> done) {
  // Cancelling twice is harmless, so a lost reply is simply retryable.
  http_.Send(ApiRequest("POST", CancelTaskPath(task_id), "", shared_->options.request_timeout),
             Shared::Handler<std::string>(shared_, CallKind::kFree, &ParseCancelResponse,
                                          std::move(done)));
}

void DashScopeClient::Download(const std::string& url, UpstreamCallback<std::string> done) {
  if (absl::Status allowed = CheckDownloadUrl(shared_->download_policy, url); !allowed.ok()) {
    UpstreamError error;
    error.kind = UpstreamError::Kind::kTerminal;
    error.code = "DownloadNotAllowed";
    error.message = std::string(allowed.message());
    shared_->deferrer.Run([status = shared_->Fail(std::move(error)),
                           done = std::move(done)]() mutable { done(std::move(status)); });
    return;
  }
  // No Authorization header: the signed storage URL is the credential, and the key must never
  // reach a host other than DashScope's API.
  http::HttpRequest request;
  request.url = url;
  request.headers = {{"User-Agent", shared_->options.user_agent}};
  request.connect_timeout = shared_->options.connect_timeout;
  request.timeout = shared_->options.request_timeout;
  request.max_response_bytes = shared_->options.max_image_bytes;
  // The allowlist vouches for the name only; where it resolves is checked at connect time.
  request.address_policy = DownloadAddressPolicy(shared_->download_policy);
  http_.Send(std::move(request), [shared = shared_, done = std::move(done)](
                                     absl::StatusOr<http::HttpResponse> reply) mutable {
    // An allowed name resolving to a refused address is as final as a refused URL: retrying
    // cannot help, and nothing was sent.
    if (reply.status().code() == absl::StatusCode::kPermissionDenied) {
      UpstreamError error;
      error.kind = UpstreamError::Kind::kTerminal;
      error.code = "DownloadNotAllowed";
      error.message = std::string(reply.status().message());
      done(shared->Fail(std::move(error)));
      return;
    }
    Shared::Handler<std::string>(shared, CallKind::kDownload, &BodyAsIs,
                                 std::move(done))(std::move(reply));
  });
}

}  // namespace qwenimage::dashscope
