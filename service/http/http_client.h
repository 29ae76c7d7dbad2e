// HttpClient: asynchronous HTTP requests. The production implementation (CurlHttpClient) runs
// every transfer on one libcurl-multi event-loop thread; callers never block on the network.
#ifndef QWENIMAGE_SERVICE_HTTP_HTTP_CLIENT_H_
#define QWENIMAGE_SERVICE_HTTP_HTTP_CLIENT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/http/address_policy.h"

namespace qwenimage::http {

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as-is for POST (may be empty: Content-Length: 0)
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration timeout = absl::Seconds(30);  // whole transfer
  // Larger responses fail with RESOURCE_EXHAUSTED; 0 means no cap.
  size_t max_response_bytes = 0;
  // False for a request that must never be sent twice (a billed create). libcurl silently
  // re-sends a request whose reused keep-alive connection turns out dead, so such a request
  // always gets a fresh connection.
  bool idempotent = true;
  // Which peer addresses the request may reach, checked on the address actually connected to
  // (after DNS), not on the URL's name. Anything but kAny also bypasses any configured proxy
  // (the check must see the real server) and refuses user info in the URL.
  AddressPolicy address_policy = AddressPolicy::kAny;
};

struct HttpResponse {
  int status = 0;
  // Header names lowercased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First value of a header (name matched case-insensitively), or "".
  absl::string_view Header(absl::string_view name) const;
};

// Transport failures are non-OK statuses: UNAVAILABLE (could not connect, reset, malformed
// response), DEADLINE_EXCEEDED (timeout), CANCELLED (Cancel), RESOURCE_EXHAUSTED (response over
// max_response_bytes), PERMISSION_DENIED (address_policy refused every address the host
// resolved to, or the peer of a reused connection; never retryable, nothing was sent).
// RequestMayHaveBeenSent() tells whether the server may have received the
// request, which decides whether a non-idempotent call may be retried blindly.
bool RequestMayHaveBeenSent(const absl::Status& status);
// Returns `status` marked so that RequestMayHaveBeenSent() is true (for clients and fakes).
absl::Status MarkRequestMayHaveBeenSent(absl::Status status);

using HttpCallback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Starts `request`. `done` runs exactly once, never inline, on the client's own thread; it
  // must not block. Returns an id for Cancel().
  virtual uint64_t Send(HttpRequest request, HttpCallback done) = 0;

  // Aborts a request still in flight; its callback then runs with CANCELLED. No-op if done.
  virtual void Cancel(uint64_t id) = 0;
};

}  // namespace qwenimage::http

#endif  // QWENIMAGE_SERVICE_HTTP_HTTP_CLIENT_H_
