#include "tests/unit/http/test_http_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace qwenimage::http {
namespace {

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

std::string QueryValue(evhttp_request* request, const char* key) {
  evkeyvalq query;
  const char* q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(request));
  if (q == nullptr || evhttp_parse_query_str(q, &query) != 0) return "";
  const char* v = evhttp_find_header(&query, key);
  std::string value = v == nullptr ? "" : v;
  evhttp_clear_headers(&query);
  return value;
}

}  // namespace

TestHttpServer::TestHttpServer() {
  static std::once_flag once;
  std::call_once(once, [] {
    evthread_use_pthreads();
    // A reply written to a client that already hung up (e.g. over its size cap) must fail the
    // write, not kill the test process.
    signal(SIGPIPE, SIG_IGN);
  });
  base_ = event_base_new();
  http_ = evhttp_new(base_);
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
  evhttp_set_gencb(http_, &TestHttpServer::Handle, this);
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_, "127.0.0.1", 0);
  if (bound == nullptr) std::abort();
  port_ = BoundPort(evhttp_bound_socket_get_fd(bound));
  // event_base_loop() forgets a loopbreak that came before it started, so the destructor's
  // break is only reliable once the loop runs: wait for its first callback.
  absl::Notification running;
  event_base_once(
      base_, -1, EV_TIMEOUT,
      +[](evutil_socket_t, short, void* arg) { static_cast<absl::Notification*>(arg)->Notify(); },
      &running, nullptr);
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  running.WaitForNotification();
}

TestHttpServer::~TestHttpServer() {
  event_base_loopbreak(base_);
  thread_.join();
  evhttp_free(http_);
  event_base_free(base_);
}

std::string TestHttpServer::Url(absl::string_view path_and_query) const {
  return absl::StrCat("http://127.0.0.1:", port_, path_and_query);
}

int TestHttpServer::Connections() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(peer_ports_.size());
}

void TestHttpServer::WaitForParked(int n) {
  std::pair<int*, int> arg(&parked_, n);
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::pair<int*, int>* a) { return *a->first >= a->second; }, &arg));
}

void TestHttpServer::Handle(evhttp_request* request, void* arg) {
  auto* self = static_cast<TestHttpServer*>(arg);
  char* peer = nullptr;
  uint16_t peer_port = 0;
  evhttp_connection_get_peer(evhttp_request_get_connection(request), &peer, &peer_port);
  const std::string path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(request));
  {
    absl::MutexLock lock(&self->mu_);
    self->peer_ports_.insert(peer_port);
    if (path == "/hang") {
      ++self->parked_;
      return;  // never answered; freed with the server
    }
  }
  evkeyvalq* out = evhttp_request_get_output_headers(request);
  evbuffer* reply = evbuffer_new();
  int status = 200;
  if (path == "/echo") {
    evkeyvalq* in = evhttp_request_get_input_headers(request);
    const char* foo = evhttp_find_header(in, "X-Foo");
    const char* type = evhttp_find_header(in, "Content-Type");
    evhttp_add_header(out, "X-Method",
                      evhttp_request_get_command(request) == EVHTTP_REQ_POST ? "POST" : "GET");
    evhttp_add_header(out, "X-Got-Foo", foo == nullptr ? "" : foo);
    evhttp_add_header(out, "X-Got-Content-Type", type == nullptr ? "(none)" : type);
    evbuffer_add_buffer(reply, evhttp_request_get_input_buffer(request));
    int parsed = 0;
    if (absl::SimpleAtoi(QueryValue(request, "status"), &parsed)) status = parsed;
  } else if (path == "/big") {
    size_t n = 0;
    if (!absl::SimpleAtoi(QueryValue(request, "n"), &n)) n = 0;
    std::string body(n, 'a');
    evbuffer_add(reply, body.data(), body.size());
  } else {
    status = 404;
  }
  evhttp_send_reply(request, status, "X", reply);
  evbuffer_free(reply);
}

RefusingPort::RefusingPort() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
  port_ = BoundPort(fd_);
}

RefusingPort::~RefusingPort() { close(fd_); }

}  // namespace qwenimage::http
