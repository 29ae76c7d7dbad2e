// Request routing and the endpoint handlers of the simulator (reference §1.2, §2, §4, §5).
#include "service/simulator/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/socket.h>

#include <map>
#include <optional>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/simulator/edit_inputs.h"
#include "service/simulator/responses.h"
#include "service/simulator/task_list.h"

namespace qwenimage::simulator {
namespace {

constexpr absl::string_view kApiPrefix = "/api/v1";
constexpr absl::string_view kTasksPath = "/tasks";

absl::BitGen MakeRng(uint64_t seed) {
  if (seed == 0) return absl::BitGen();
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  return absl::BitGen(seq);
}

std::string Header(evhttp_request* req, const char* name) {
  const char* v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return v ? std::string(v) : std::string();
}

std::string Body(evhttp_request* req) {
  evbuffer* in = evhttp_request_get_input_buffer(req);
  std::string body(evbuffer_get_length(in), '\0');
  evbuffer_copyout(in, body.data(), body.size());
  return body;
}

std::string QueryParam(absl::string_view query, absl::string_view name) {
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == name) return QueryUnescape(p.second);
  }
  return std::string();
}

// All parameters of a query string, unescaped (a repeated name keeps its last value).
std::map<std::string, std::string> QueryParams(absl::string_view query) {
  std::map<std::string, std::string> out;
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    out[QueryUnescape(p.first)] = QueryUnescape(p.second);
  }
  return out;
}

// Closes the connection without a reply: with `reset`, SO_LINGER 0 makes the peer see a TCP RST;
// without, a plain FIN after the request was read (the client gets an empty reply).
void CloseConnection(evhttp_request* req, bool reset) {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (conn == nullptr) {  // the client already left; libevent handed the request to us
    evhttp_request_free(req);
    return;
  }
  if (reset) {
    linger lg{1, 0};
    setsockopt(bufferevent_getfd(evhttp_connection_get_bufferevent(conn)), SOL_SOCKET, SO_LINGER,
               &lg, sizeof(lg));
  }
  evhttp_connection_free(conn);
}

// What a limits 429 carries of a request's plan: only the Retry-After hint. The limit is
// upstream's own answer, so injected delays and delivery faults do not apply to it.
FaultPlan RetryHintOnly(const FaultPlan& plan) {
  FaultPlan hint;
  hint.retry_after = plan.retry_after;
  return hint;
}

}  // namespace

Server::Server(SimulatorOptions options, EventLoop* loop)
    : options_(std::move(options)),
      loop_(loop),
      http_(evhttp_new(loop->base())),
      rng_(MakeRng(options_.random_seed)) {
  for (const std::string& entry : options_.api_keys) AddKey(entry);
  evhttp_set_gencb(http_, &Server::OnRequest, this);
  evhttp_set_timeout(http_, 3600);  // sync replies are held for the task duration
  // An edit carries up to three 10 MB inputs as base64 data URIs (about 40 MB).
  evhttp_set_max_body_size(http_, 64 << 20);
}

Server::~Server() {
  for (evhttp_request* req : hung_) {
    if (evhttp_request_get_connection(req) == nullptr) evhttp_request_free(req);
  }
  evhttp_free(http_);
}

void Server::AddKey(absl::string_view entry) {
  std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('@', 1));
  keys_[kv.first] = kv.second.empty() ? options_.region : kv.second;
}

absl::Status Server::Listen() {
  if (options_.region != "singapore" && options_.region != "beijing") {
    return absl::InvalidArgumentError(
        absl::StrCat("region '", options_.region, "' must be singapore or beijing"));
  }
  if (!(options_.time_scale > 0)) return absl::InvalidArgumentError("time_scale must be > 0");
  size_t colon = options_.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen '", options_.listen, "' is not host:port"));
  }
  std::string host = options_.listen.substr(0, colon);
  evhttp_bound_socket* sock = evhttp_bind_socket_with_handle(http_, host.c_str(), port);
  if (sock == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(evhttp_bound_socket_get_fd(sock), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  std::string origin_host = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host;
  urls_ = std::make_unique<ImageUrls>(absl::StrCat("http://", origin_host, ":", port_),
                                      absl::Uniform<uint64_t>(rng_));
  engine_ = std::make_unique<TaskEngine>(options_, loop_, &stats_, urls_.get(), &rng_);
  return absl::OkStatus();
}

void Server::OnRequest(evhttp_request* req, void* self) { static_cast<Server*>(self)->Route(req); }

void Server::Route(evhttp_request* req) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  absl::string_view path = evhttp_uri_get_path(uri) ? evhttp_uri_get_path(uri) : "";
  absl::string_view query = evhttp_uri_get_query(uri) ? evhttp_uri_get_query(uri) : "";
  const bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
  const bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
  Call call{req, "", NewUuid(rng_), absl::Now()};

  if (absl::StartsWith(path, "/__")) return HandleAdmin(req, path, query);
  if (absl::StartsWith(path, "/images/") && get) {
    call.endpoint = "image";
    return HandleImage(std::move(call), path, query);
  }
  if (absl::ConsumePrefix(&path, kApiPrefix)) {
    if (path == "/services/aigc/multimodal-generation/generation" && post) {
      call.endpoint = "generation";
      return HandleCreate(std::move(call), CreateEndpoint::kGeneration);
    }
    if (path == "/services/aigc/text2image/image-synthesis" && post) {
      call.endpoint = "image-synthesis";
      return HandleCreate(std::move(call), CreateEndpoint::kImageSynthesis);
    }
    if (absl::ConsumePrefix(&path, kTasksPath)) {
      if ((path.empty() || path == "/") && get) {
        call.endpoint = "task_list";
        return HandleTaskApi(std::move(call), "", query);
      }
      std::vector<absl::string_view> parts;
      if (absl::ConsumePrefix(&path, "/")) parts = absl::StrSplit(path, '/');
      if (parts.size() == 1 && !parts[0].empty() && get) {
        call.endpoint = "task_get";
        return HandleTaskApi(std::move(call), parts[0], query);
      }
      if (parts.size() == 2 && !parts[0].empty() && parts[1] == "cancel" && post) {
        call.endpoint = "task_cancel";
        return HandleTaskApi(std::move(call), parts[0], query);
      }
    }
  }
  call.endpoint = "other";
  SendError(call, ApiError{404, "NotFound", "The requested resource is not found."});
}

bool Server::Authorize(const Call& call, std::string* key) {
  std::string auth = Header(call.req, "Authorization");
  absl::string_view token = auth;
  if (!absl::ConsumePrefix(&token, "Bearer ") || absl::StripAsciiWhitespace(token).empty()) {
    SendError(call, ApiError{401, "InvalidApiKey", "No API-key provided."});
    return false;
  }
  *key = std::string(absl::StripAsciiWhitespace(token));
  auto it = keys_.find(*key);
  if (it == keys_.end() || it->second != options_.region) {  // keys are region-bound
    SendError(call, ErrorForCode("InvalidApiKey"));
    return false;
  }
  return true;
}

const FaultRates* Server::RatesFor(const std::string& endpoint) const {
  auto it = options_.faults.find(endpoint);
  if (it == options_.faults.end()) it = options_.faults.find("*");
  return it == options_.faults.end() ? nullptr : &it->second;
}

FaultPlan Server::DrawFaults(const std::string& endpoint, bool create) {
  if (std::optional<FaultPlan> once = one_shots_.Take(endpoint)) return *std::move(once);
  const FaultRates* rates = RatesFor(endpoint);
  if (rates == nullptr) return FaultPlan();
  return PlanFromRates(*rates, absl::Uniform<double>(rng_, 0.0, 1.0), create);
}

void Server::HandleCreate(Call call, CreateEndpoint endpoint) {
  std::string key;
  if (!Authorize(call, &key)) return;
  const bool async_header = Header(call.req, "X-DashScope-Async") == "enable";
  if (endpoint == CreateEndpoint::kGeneration && async_header) {
    return SendError(call, {403, "AccessDenied", "Current user api does not support asynchronous calls"});
  }
  if (endpoint == CreateEndpoint::kImageSynthesis && !async_header) {
    return SendError(call, {403, "AccessDenied", "current user api does not support synchronous calls"});
  }
  // Drawn before the body is parsed, keeping seeded runs' draw order. Acting on the draw waits
  // for the prompt's markers, which override it (including a Retry-After for a drawn 429).
  FaultPlan plan = DrawFaults(call.endpoint, /*create=*/true);
  ImageRequest request;
  // A drawn error always ends the call without a task, so it needs no seed; not drawing one keeps
  // the random sequence of seeded runs as it was when such calls returned before parsing.
  int64_t random_seed =
      plan.error ? 0 : absl::Uniform<int64_t>(rng_, 0, int64_t{2147483647} + 1);
  if (auto err = ParseImageRequest(Body(call.req), endpoint, random_seed, &request)) {
    return SendError(call, *err);
  }
  if (!request.inputs.empty()) {
    stats_.CountEdit(static_cast<int>(request.inputs.size()));
    if (auto err = FetchInputImages(&request)) return SendError(call, *err);
    if (auto err = CheckInputImages(&request)) return SendError(call, *err);
  }
  plan = MergePlans(std::move(plan), PlanFromPrompt(request.full_prompt));
  // Dropped before any work: no submit token, no task, not counted in `creates`.
  if (plan.delivery == Delivery::kDrop) return Send(call, Reply(), plan);
  if (plan.error) return SendError(call, *plan.error, plan);
  const bool sync = endpoint == CreateEndpoint::kGeneration;
  if (auto err = engine_->Admit(key, *request.model, sync)) return SendError(call, *err, plan);

  if (!sync) {
    const Task& task = engine_->Submit(key, call.request_id, std::move(request), plan, false, nullptr);
    return Send(call, Outcome({200, AsyncCreateBody(call.request_id, task)}, plan), plan);
  }
  engine_->Submit(key, call.request_id, std::move(request), plan, true,
                  [this, call, plan](const Task& task) {
                    Reply reply;
                    if (task.status == TaskStatus::kSucceeded) {
                      reply = {200, SyncResultBody(call.request_id, task)};
                    } else {
                      ApiError e = ErrorForCode(task.code);
                      e.message = task.message;
                      reply = ErrorReply(call, e);
                    }
                    Send(call, Outcome(std::move(reply), plan), plan);
                  });
}

void Server::HandleTaskApi(Call call, absl::string_view task_id, absl::string_view query) {
  std::string key;
  if (!Authorize(call, &key)) return;
  // Faults come before the QPS limit so that an armed one-shot fault answers its request even
  // when the limit would have; a faulted call takes no QPS token.
  FaultPlan plan = DrawFaults(call.endpoint, /*create=*/false);
  if (plan.error) return SendError(call, *plan.error, plan);
  if (plan.delivery == Delivery::kDrop) return Send(call, Reply(), plan);  // e.g. cancel not done
  if (!engine_->AllowTaskApiCall(key)) {
    return SendError(call, ErrorForCode("Throttling.RateQuota"), RetryHintOnly(plan));
  }
  const std::string id(task_id);

  if (call.endpoint == "task_get") {
    Reply reply{200, TaskBody(call.request_id, id, engine_->Find(key, id)),
                "application/json;charset=UTF-8"};
    return Send(call, Outcome(std::move(reply), plan), plan);
  }
  if (call.endpoint == "task_cancel") {
    Reply reply{200, RequestIdBody(call.request_id)};
    if (!engine_->Cancel(key, id)) {
      reply = ErrorReply(
          call, {400, "UnsupportedOperation",
                 "Failed to cancel the task, please confirm if the task is in PENDING status."});
    }
    return Send(call, Outcome(std::move(reply), plan), plan);
  }
  ListPage page;
  Reply reply;
  if (auto err = SelectListPage(engine_->TasksOf(key), query, absl::Now(), &page)) {
    reply = ErrorReply(call, *err);
  } else {
    const char* region_id = options_.region == "beijing" ? "cn-beijing" : "ap-southeast-1";
    reply = {200, ListBody(call.request_id, page, region_id)};
  }
  Send(call, Outcome(std::move(reply), plan), plan);
}

void Server::HandleImage(Call call, absl::string_view path, absl::string_view query) {
  FaultPlan plan = DrawFaults(call.endpoint, /*create=*/false);
  if (plan.error) return SendError(call, *plan.error, plan);
  if (plan.delivery == Delivery::kDrop) return Send(call, Reply(), plan);
  Reply reply;
  ImageRef ref;
  switch (urls_->Verify(path, query, absl::Now(), &ref)) {
    case ImageUrls::Check::kOk:
      reply = {200, RenderPng(ref.width, ref.height, ref.key, ref.inputs), "image/png"};
      break;
    case ImageUrls::Check::kBadSignature:
      reply = {403, "AccessDenied: signature does not match", "text/plain"};
      break;
    case ImageUrls::Check::kExpired:
      reply = {404, "NoSuchKey: the object has expired", "text/plain"};
      break;
    case ImageUrls::Check::kNotFound:
      reply = {404, "NoSuchKey", "text/plain"};
      break;
  }
  Send(call, Outcome(std::move(reply), plan), plan);
}

void Server::HandleAdmin(evhttp_request* req, absl::string_view path, absl::string_view query) {
  Call call{req, "admin", NewUuid(rng_), absl::Now()};
  Reply reply{200, "{}"};
  const bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
  const bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
  if (path == "/__stats") {
    reply.body = stats_.ToJson(engine_->CountByStatus());
  } else if (path == "/__reset" && post) {
    stats_.Reset();
    one_shots_.Clear();
    if (QueryParam(query, "tasks") == "1") engine_->DropFinishedTasks();
  } else if (path == "/__faults/once" && post) {
    reply = ArmOneShotFault(call.request_id, query);
  } else if (path == "/__faults" && get) {
    reply.body = nlohmann::json{{"pending", one_shots_.Pending()}}.dump();
  } else if (path == "/__keys/revoke" && post && !QueryParam(query, "key").empty()) {
    keys_.erase(QueryParam(query, "key"));
  } else if (path == "/__keys/add" && post && !QueryParam(query, "key").empty()) {
    AddKey(QueryParam(query, "key"));
  } else {
    reply = {404, ErrorBody(call.request_id, {404, "NotFound", "Unknown admin endpoint."})};
  }
  Deliver(call, std::move(reply), Delivery::kNormal);
}

Server::Reply Server::ArmOneShotFault(const std::string& request_id, absl::string_view query) {
  absl::StatusOr<OneShotFault> fault = ParseOneShotFault(QueryParams(query));
  if (!fault.ok()) {
    return {400, ErrorBody(request_id, InvalidParameter(std::string(fault.status().message())))};
  }
  one_shots_.Add(*std::move(fault));
  return {200, nlohmann::json{{"pending", one_shots_.Pending()}}.dump()};
}

Server::Reply Server::ErrorReply(const Call& call, const ApiError& error) {
  return {error.http_status, ErrorBody(call.request_id, error)};
}

Server::Reply Server::Outcome(Reply reply, const FaultPlan& plan) {
  if (plan.after_status == 0) return reply;
  Reply page{plan.after_status, GatewayErrorBody(plan.after_status), "text/html"};
  page.from_gateway = true;
  return page;
}

void Server::SendError(const Call& call, const ApiError& error, const FaultPlan& plan) {
  Send(call, ErrorReply(call, error), plan);
}

void Server::Send(const Call& call, Reply reply, const FaultPlan& plan) {
  if (reply.status == 429) reply.retry_after = plan.retry_after;
  // Closes always go through the loop: freeing a connection inside its own callback is unsafe.
  const bool closes = plan.delivery == Delivery::kReset || plan.delivery == Delivery::kDrop;
  if (plan.delay <= absl::ZeroDuration() && !closes) {
    return Deliver(call, std::move(reply), plan.delivery);
  }
  loop_->RunAfter(plan.delay, [this, call, reply = std::move(reply), delivery = plan.delivery] {
    Deliver(call, reply, delivery);
  });
}

void Server::Deliver(const Call& call, Reply reply, Delivery delivery) {
  const bool admin = call.endpoint == "admin";
  switch (delivery) {
    case Delivery::kHang:
      stats_.CountRequest(call.endpoint, "hang");
      hung_.push_back(call.req);
      return;
    case Delivery::kReset:
      stats_.CountRequest(call.endpoint, "reset");
      CloseConnection(call.req, /*reset=*/true);
      return;
    case Delivery::kDrop:
      stats_.CountRequest(call.endpoint, "drop");
      CloseConnection(call.req, /*reset=*/false);
      return;
    case Delivery::kMalformed:
      reply.body.resize(reply.body.size() / 2);
      break;
    case Delivery::kNormal:
      break;
  }
  if (!admin) stats_.CountRequest(call.endpoint, absl::StrCat(reply.status));
  evkeyvalq* headers = evhttp_request_get_output_headers(call.req);
  evhttp_add_header(headers, "Content-Type", reply.content_type);
  if (reply.retry_after) {
    evhttp_add_header(headers, "Retry-After", absl::StrCat(*reply.retry_after).c_str());
  }
  if (reply.from_gateway) {
    evhttp_add_header(headers, "server", "nginx");
  } else if (!admin && call.endpoint != "image") {
    evhttp_add_header(headers, "x-request-id", call.request_id.c_str());
    evhttp_add_header(headers, "x-dashscope-requestid", call.request_id.c_str());
    evhttp_add_header(headers, "req-cost-time",
                      absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - call.arrived)).c_str());
    evhttp_add_header(headers, "server", "istio-envoy");
  }
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, reply.body.data(), reply.body.size());
  evhttp_send_reply(call.req, reply.status, nullptr, out);
  evbuffer_free(out);
}

}  // namespace qwenimage::simulator
