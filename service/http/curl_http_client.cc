#include "service/http/curl_http_client.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace qwenimage::http {

struct CurlHttpClient::Transfer {
  ~Transfer() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }

  uint64_t id = 0;
  HttpRequest request;
  HttpCallback done;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  bool too_large = false;
  // AddressPolicy bookkeeping: sockets opened and addresses refused at connect time, whether
  // the peer check refused a (possibly reused) connection, and what was refused.
  int sockets_opened = 0;
  int addresses_refused = 0;
  bool peer_refused = false;
  std::string refused;
  char error[CURL_ERROR_SIZE] = {};
};

namespace {

CURLM* AsMulti(void* multi) { return static_cast<CURLM*>(multi); }

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlHttpClient::Transfer*>(user);
  const size_t n = size * count;
  const size_t cap = t->request.max_response_bytes;
  if (cap != 0 && t->response.body.size() + n > cap) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlHttpClient::Transfer*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  // A status line starts a new response (after "100 Continue"): earlier headers are not ours.
  if (absl::StartsWith(line, "HTTP/")) {
    t->response.headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;  // blank line ending the header block
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  t->response.headers.emplace_back(std::move(name), std::move(value));
  return n;
}

std::optional<IpRange> RangeOfSockaddr(const sockaddr* addr, size_t len, std::string* text) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof(in));
    inet_ntop(AF_INET, &in.sin_addr, buf, sizeof(buf));
    *text = buf;
    return ClassifyIpv4(ntohl(in.sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof(in6));
    inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof(buf));
    *text = buf;
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    return ClassifyIpv6(bytes);
  }
  *text = absl::StrCat("address family ", addr->sa_family);
  return std::nullopt;
}

std::string RefusedWhy(const std::string& address, std::optional<IpRange> range,
                       AddressPolicy policy) {
  return absl::StrCat(range.has_value() ? IpRangeName(*range) : "unclassifiable", " address ",
                      address, " (address policy: ", AddressPolicyName(policy), ")");
}

// Runs for every address curl is about to connect to, after DNS: refusing here means no SYN
// ever reaches an internal service. curl then tries the host's next address, if any.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<CurlHttpClient::Transfer*>(user);
  std::string text;
  const std::optional<IpRange> range = RangeOfSockaddr(&address->addr, address->addrlen, &text);
  if (!range.has_value() || !AddressPolicyAdmits(t->request.address_policy, *range)) {
    if (t->addresses_refused++ == 0) {
      t->refused = absl::StrCat("refused to connect to ",
                                RefusedWhy(text, range, t->request.address_policy));
    }
    return CURL_SOCKET_BAD;
  }
  ++t->sockets_opened;
  return socket(address->family, address->socktype, address->protocol);
}

// Runs before the request is written on a new or reused connection. A reused connection may
// have been opened by a request under a laxer policy, so its peer is checked again here.
int OnPrereq(void* user, char* primary_ip, char* local_ip, int primary_port, int local_port) {
  auto* t = static_cast<CurlHttpClient::Transfer*>(user);
  const std::optional<IpRange> range = ClassifyIpLiteral(primary_ip);
  if (range.has_value() && AddressPolicyAdmits(t->request.address_policy, *range)) {
    return CURL_PREREQFUNC_OK;
  }
  t->peer_refused = true;
  t->refused = absl::StrCat("refused to send on a connection to ",
                            RefusedWhy(primary_ip, range, t->request.address_policy));
  return CURL_PREREQFUNC_ABORT;
}

long TimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration() || d <= absl::ZeroDuration()) return 0;  // 0 = no limit
  return std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(d)));
}

// Failures that happen before a single request byte can reach the server.
bool FailedBeforeSending(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return true;
    default:
      return false;
  }
}

// Whether the transfer got far enough that the request may be on the wire. Errs on "yes".
bool MadeProgress(CURL* easy) {
  curl_off_t connect_us = 0, pretransfer_us = 0;
  long request_size = 0;
  curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  return connect_us > 0 || pretransfer_us > 0 || request_size > 0;
}

absl::Status TransportStatus(CURLcode code, const CurlHttpClient::Transfer& t) {
  const std::string detail =
      absl::StrCat(curl_easy_strerror(code), t.error[0] != '\0' ? ": " : "", t.error);
  if (t.too_large) {
    return MarkRequestMayHaveBeenSent(absl::ResourceExhaustedError(absl::StrCat(
        "response larger than ", t.request.max_response_bytes, " bytes")));
  }
  // Refused by the address policy before a single byte was written (not marked as sent). When
  // some address did get a socket, the failure is that connection's, reported as usual.
  if (t.peer_refused || (t.addresses_refused > 0 && t.sockets_opened == 0)) {
    return absl::PermissionDeniedError(t.refused);
  }
  if (FailedBeforeSending(code)) return absl::UnavailableError(detail);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    absl::Status status = absl::DeadlineExceededError(detail);
    return MadeProgress(t.easy) ? MarkRequestMayHaveBeenSent(status) : status;
  }
  return MarkRequestMayHaveBeenSent(absl::UnavailableError(detail));
}

// A transfer stopped by Cancel() or shutdown: whether it may have reached the server decides
// what the caller may safely do next.
absl::Status CancelledStatus(CURL* easy, absl::string_view why) {
  absl::Status status = absl::CancelledError(why);
  return MadeProgress(easy) ? MarkRequestMayHaveBeenSent(status) : status;
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::unique_ptr<CurlHttpClient> CurlHttpClient::Create(Options options) {
  GlobalInitOnce();
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return nullptr;
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(options.max_connections_per_host));
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  // Keep as many idle connections as we may open, so bursts reuse them.
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_total_connections);
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(options), multi));
}

CurlHttpClient::CurlHttpClient(Options options, void* multi)
    : options_(std::move(options)), multi_(multi) {
  thread_ = std::thread([this] { Run(); });
}

CurlHttpClient::~CurlHttpClient() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  curl_multi_wakeup(AsMulti(multi_));
  thread_.join();
  // Requests sent after the loop's last look at the inbox still owe their callback.
  std::vector<std::unique_ptr<Transfer>> late;
  {
    absl::MutexLock lock(&mu_);
    late.swap(inbox_);
  }
  for (auto& t : late) t->done(absl::CancelledError("HTTP client shut down"));
  curl_multi_cleanup(AsMulti(multi_));
}

uint64_t CurlHttpClient::Send(HttpRequest request, HttpCallback done) {
  auto transfer = std::make_unique<Transfer>();
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  transfer->id = id;
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    inbox_.push_back(std::move(transfer));
  }
  curl_multi_wakeup(AsMulti(multi_));
  return id;
}

void CurlHttpClient::Cancel(uint64_t id) {
  {
    absl::MutexLock lock(&mu_);
    cancels_.push_back(id);
  }
  curl_multi_wakeup(AsMulti(multi_));
}

void CurlHttpClient::Run() {
  bool stopping = false;
  while (true) {
    DrainInbox(&stopping);
    if (stopping) break;
    int running = 0;
    curl_multi_perform(AsMulti(multi_), &running);
    CollectCompleted();
    curl_multi_poll(AsMulti(multi_), nullptr, 0, /*timeout_ms=*/1000, nullptr);
  }
  std::vector<uint64_t> ids;
  ids.reserve(active_.size());
  for (const auto& [id, t] : active_) ids.push_back(id);
  for (uint64_t id : ids) {
    FinishTransfer(id, CancelledStatus(active_.at(id)->easy, "HTTP client shut down"));
  }
}

void CurlHttpClient::DrainInbox(bool* stopping) {
  std::vector<std::unique_ptr<Transfer>> inbox;
  std::vector<uint64_t> cancels;
  {
    absl::MutexLock lock(&mu_);
    inbox.swap(inbox_);
    cancels.swap(cancels_);
    *stopping = stopping_;
  }
  for (auto& t : inbox) {
    if (*stopping) {
      t->done(absl::CancelledError("HTTP client shut down"));
    } else {
      StartTransfer(std::move(t));
    }
  }
  // Requests and cancels were drained together, so a cancel always finds its request here.
  for (uint64_t id : cancels) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    FinishTransfer(id, CancelledStatus(it->second->easy, "request cancelled"));
  }
}

void CurlHttpClient::StartTransfer(std::unique_ptr<Transfer> transfer) {
  Transfer* t = transfer.get();
  const HttpRequest& r = t->request;
  t->easy = curl_easy_init();
  if (t->easy == nullptr) {
    t->done(absl::InternalError("curl_easy_init failed"));
    return;
  }
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, TimeoutMs(r.connect_timeout));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TimeoutMs(r.timeout));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.user_agent.empty()) {
    curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  }

  bool has_content_type = false;
  for (const auto& [name, value] : r.headers) {
    has_content_type |= absl::EqualsIgnoreCase(name, "content-type");
    t->header_list =
        curl_slist_append(t->header_list, absl::StrCat(name, ": ", value).c_str());
  }
  // "Expect: 100-continue" costs a round trip for nothing; curl's default form content type
  // would mislabel bodies the caller did not type.
  t->header_list = curl_slist_append(t->header_list, "Expect:");
  if (!has_content_type) t->header_list = curl_slist_append(t->header_list, "Content-Type:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

  if (!r.idempotent) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  if (r.address_policy != AddressPolicy::kAny) {
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &OnPrereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    // Through a proxy, the address connected to would be the proxy's, and the real server's
    // would go unchecked; "" overrides the *_proxy environment variables too.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_DISALLOW_USERNAME_IN_URL, 1L);
  }
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  if (curl_multi_add_handle(AsMulti(multi_), e) != CURLM_OK) {
    t->done(absl::InternalError("curl_multi_add_handle failed"));
    return;
  }
  active_.emplace(t->id, std::move(transfer));
}

void CurlHttpClient::CollectCompleted() {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(AsMulti(multi_), &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    const CURLcode code = msg->data.result;
    if (code != CURLE_OK) {
      FinishTransfer(t->id, TransportStatus(code, *t));
      continue;
    }
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
    FinishTransfer(t->id, std::move(t->response));
  }
}

void CurlHttpClient::FinishTransfer(uint64_t id, absl::StatusOr<HttpResponse> result) {
  auto node = active_.extract(id);
  if (node.empty()) return;
  std::unique_ptr<Transfer> t = std::move(node.mapped());
  curl_multi_remove_handle(AsMulti(multi_), t->easy);
  HttpCallback done = std::move(t->done);
  t.reset();  // frees the easy handle; the connection stays in the multi handle's cache
  done(std::move(result));
}

}  // namespace qwenimage::http
