#include "service/server/upstream_probe.h"

#include <utility>

#include "service/logging/redact.h"
#include "spdlog/spdlog.h"

namespace qwenimage::server {

UpstreamProbe::UpstreamProbe(http::HttpClient& http, std::string url, absl::Duration retry_interval,
                             std::function<void()> on_ready)
    : http_(http),
      url_(std::move(url)),
      retry_interval_(retry_interval),
      on_ready_(std::move(on_ready)),
      thread_([this] { Run(); }) {}

UpstreamProbe::~UpstreamProbe() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

bool UpstreamProbe::WaitFirstAttempt() {
  first_attempt_.WaitForNotification();
  return first_ok_;
}

bool UpstreamProbe::Attempt() {
  http::HttpRequest request;
  request.url = url_;
  request.connect_timeout = absl::Seconds(3);
  request.timeout = absl::Seconds(5);
  request.max_response_bytes = 64 << 10;
  absl::Notification done;
  absl::Status status;
  http_.Send(std::move(request), [&](absl::StatusOr<http::HttpResponse> response) {
    status = response.status();
    done.Notify();
  });
  done.WaitForNotification();
  if (!status.ok()) {
    spdlog::warn("upstream {} not reachable yet: {}", logging::Redact(url_),
                 logging::Redact(status.message()));
  }
  return status.ok();
}

void UpstreamProbe::Run() {
  bool ok = Attempt();
  first_ok_ = ok;
  first_attempt_.Notify();
  while (!ok) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), retry_interval_)) return;
    }
    ok = Attempt();
  }
  spdlog::info("upstream {} reachable", logging::Redact(url_));
  on_ready_();
}

}  // namespace qwenimage::server
