// FakeHttpClient: an HttpClient that records requests and lets the test answer each one, so
// DashScopeClient is tested byte for byte without a network.
#ifndef QWENIMAGE_TESTS_UNIT_DASHSCOPE_FAKE_HTTP_CLIENT_H_
#define QWENIMAGE_TESTS_UNIT_DASHSCOPE_FAKE_HTTP_CLIENT_H_

#include <utility>
#include <vector>

#include "service/http/http_client.h"

namespace qwenimage::http {

class FakeHttpClient : public HttpClient {
 public:
  struct Call {
    HttpRequest request;
    HttpCallback done;
  };

  uint64_t Send(HttpRequest request, HttpCallback done) override {
    calls_.push_back({std::move(request), std::move(done)});
    return calls_.size();
  }
  void Cancel(uint64_t id) override {}

  std::vector<Call>& calls() { return calls_; }
  const HttpRequest& last() const { return calls_.back().request; }

  // Answers the latest request.
  void Reply(int status, std::string body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    calls_.back().done(std::move(r));
  }
  void Fail(absl::Status status) { calls_.back().done(std::move(status)); }

 private:
  std::vector<Call> calls_;
};

}  // namespace qwenimage::http

#endif  // QWENIMAGE_TESTS_UNIT_DASHSCOPE_FAKE_HTTP_CLIENT_H_
