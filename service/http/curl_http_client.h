// CurlHttpClient: the production HttpClient. Every transfer runs on one libcurl-multi event-loop
// thread that shares one connection cache, so thousands of long calls cost sockets, not threads.
#ifndef QWENIMAGE_SERVICE_HTTP_CURL_HTTP_CLIENT_H_
#define QWENIMAGE_SERVICE_HTTP_CURL_HTTP_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "service/http/http_client.h"

namespace qwenimage::http {

// HttpRequest::address_policy is enforced twice: on every address curl resolved, before the
// socket is opened (CURLOPT_OPENSOCKETFUNCTION: no SYN to a refused address), and on the peer of
// the new or reused connection before the request is written (CURLOPT_PREREQFUNCTION: a cached
// connection opened by an unchecked request cannot carry a checked one).
class CurlHttpClient final : public HttpClient {
 public:
  struct Options {
    // Transfers beyond these limits wait inside libcurl for a free connection.
    int max_connections_per_host = 32;
    long max_total_connections = 256;
    bool verify_tls = true;
    std::string ca_file;  // "" = system trust store
    std::string user_agent = "qwen-image-gateway/0.1";
  };

  // Starts the event-loop thread. Fails only if libcurl cannot be initialised.
  static std::unique_ptr<CurlHttpClient> Create(Options options);

  // Stops the loop; requests still in flight complete with CANCELLED (on the loop thread, or on
  // the destroying thread for requests the loop never picked up). Must not run on the loop
  // thread, i.e. not from inside a callback.
  ~CurlHttpClient() override;

  uint64_t Send(HttpRequest request, HttpCallback done) override;
  void Cancel(uint64_t id) override;

  struct Transfer;  // one request in flight; defined in the .cc

 private:

  CurlHttpClient(Options options, void* multi);
  void Run();
  void DrainInbox(bool* stopping);
  void StartTransfer(std::unique_ptr<Transfer> transfer);
  void FinishTransfer(uint64_t id, absl::StatusOr<HttpResponse> result);
  void CollectCompleted();

  const Options options_;
  void* const multi_;  // CURLM*, owned; touched only by the loop thread after construction
  std::atomic<uint64_t> next_id_{1};

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Transfer>> inbox_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> cancels_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Loop-thread state: transfers handed to libcurl, by id.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Transfer>> active_;
  std::thread thread_;
};

}  // namespace qwenimage::http

#endif  // QWENIMAGE_SERVICE_HTTP_CURL_HTTP_CLIENT_H_
