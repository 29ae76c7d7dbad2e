// UpstreamProbe: readiness's upstream half — repeats a GET of the upstream base URL until any
// HTTP answer arrives (reachable, whatever the status), then reports ready once.
#ifndef QWENIMAGE_SERVICE_SERVER_UPSTREAM_PROBE_H_
#define QWENIMAGE_SERVICE_SERVER_UPSTREAM_PROBE_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/http/http_client.h"

namespace qwenimage::server {

class UpstreamProbe {
 public:
  // `on_ready` runs once, on the probe's thread. `http` must outlive the probe.
  UpstreamProbe(http::HttpClient& http, std::string url, absl::Duration retry_interval,
                std::function<void()> on_ready);
  ~UpstreamProbe();  // stops retrying; waits for the probe's thread

  // Blocks until the first attempt has finished; returns whether upstream answered.
  bool WaitFirstAttempt();

 private:
  bool Attempt();
  void Run();

  http::HttpClient& http_;
  const std::string url_;
  const absl::Duration retry_interval_;
  const std::function<void()> on_ready_;
  absl::Notification first_attempt_;
  bool first_ok_ = false;  // written before first_attempt_ is notified
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_UPSTREAM_PROBE_H_
