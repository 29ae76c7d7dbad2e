// HttpsFileServer: a loopback HTTPS server of fixed files, for tests whose inputs must be https
// URLs that another process (the simulator, standing in for DashScope) fetches. Binds
// 127.0.0.1 port 0 with a throwaway self-signed certificate (TestPki); serves one connection
// at a time on its own thread; counts requests per path.
#ifndef QWENIMAGE_TESTS_TESTING_HTTPS_FILE_SERVER_H_
#define QWENIMAGE_TESTS_TESTING_HTTPS_FILE_SERVER_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace qwenimage::testing {

class HttpsFileServer {
 public:
  HttpsFileServer();  // aborts the test process if it cannot start (a broken test machine)
  ~HttpsFileServer();
  HttpsFileServer(const HttpsFileServer&) = delete;
  HttpsFileServer& operator=(const HttpsFileServer&) = delete;

  // Serves `bytes` at `path` ("/a.png") with that Content-Type; anything else is 404.
  void Add(const std::string& path, std::string bytes, std::string content_type);
  // "https://127.0.0.1:<port><path>".
  std::string Url(const std::string& path) const;
  // GET requests seen for `path`.
  int Requests(const std::string& path) const;

 private:
  struct File {
    std::string bytes;
    std::string content_type;
  };
  void Serve();
  void Handle(int fd);

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, File> files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> requests_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_HTTPS_FILE_SERVER_H_
