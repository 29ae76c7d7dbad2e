// TestHttpServer: a small libevent HTTP/1.1 server on 127.0.0.1 (port 0) for HttpClient tests.
// It echoes requests, parks requests forever, serves large bodies and counts connections.
#ifndef QWENIMAGE_TESTS_UNIT_HTTP_TEST_HTTP_SERVER_H_
#define QWENIMAGE_TESTS_UNIT_HTTP_TEST_HTTP_SERVER_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

struct event_base;
struct evhttp;
struct evhttp_request;

namespace qwenimage::http {

// Routes: /echo[?status=N] replies with the request body and "x-method", "x-got-foo" (the
// request's X-Foo), "x-got-content-type" headers; /hang never replies; /big?n=N sends N bytes.
class TestHttpServer {
 public:
  TestHttpServer();
  ~TestHttpServer();

  std::string Url(absl::string_view path_and_query) const;
  // Distinct client connections that carried at least one request.
  int Connections();
  // Blocks until `n` requests in total have been parked by /hang.
  void WaitForParked(int n);

 private:
  static void Handle(evhttp_request* request, void* self);

  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int port_ = 0;
  std::thread thread_;

  absl::Mutex mu_;
  absl::flat_hash_set<uint16_t> peer_ports_ ABSL_GUARDED_BY(mu_);
  int parked_ ABSL_GUARDED_BY(mu_) = 0;
};

// A port on 127.0.0.1 that refuses connections: bound but not listening, and kept bound so
// that no client socket can pick it as its own port (which would make a self-connection).
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace qwenimage::http

#endif  // QWENIMAGE_TESTS_UNIT_HTTP_TEST_HTTP_SERVER_H_
