#include "tests/testing/https_file_server.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace qwenimage::testing {
namespace {

[[noreturn]] void Die(absl::string_view what) {
  std::fprintf(stderr, "HttpsFileServer: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace

HttpsFileServer::HttpsFileServer() {
  static int instance = 0;
  TestPki pki(absl::StrCat(::testing::TempDir(), "/https_file_server_", getpid(), "_",
                           instance++));
  absl::StatusOr<CertFiles> ca = pki.MakeCa("ca");
  if (!ca.ok()) Die(ca.status().ToString());
  absl::StatusOr<CertFiles> cert = pki.MakeServerCert(*ca, "server");
  if (!cert.ok()) Die(cert.status().ToString());
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr ||
      SSL_CTX_use_certificate_chain_file(ctx_, cert->cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_, cert->key.c_str(), SSL_FILETYPE_PEM) != 1) {
    Die("cannot load the test certificate");
  }
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

HttpsFileServer::~HttpsFileServer() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  thread_.join();
  close(listen_fd_);
  SSL_CTX_free(ctx_);
}

void HttpsFileServer::Add(const std::string& path, std::string bytes, std::string content_type) {
  absl::MutexLock lock(&mu_);
  files_[path] = File{std::move(bytes), std::move(content_type)};
}

std::string HttpsFileServer::Url(const std::string& path) const {
  return absl::StrCat("https://127.0.0.1:", port_, path);
}

int HttpsFileServer::Requests(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = requests_.find(path);
  return it == requests_.end() ? 0 : it->second;
}

void HttpsFileServer::Serve() {
  while (!stopping_) {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;  // shut down (stopping_) or a transient error
    timeval timeout{10, 0};  // a stalled client cannot hold the server past this
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    Handle(fd);
    close(fd);
  }
}

void HttpsFileServer::Handle(int fd) {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return;
  }
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  // "GET /path HTTP/1.1"
  std::string path;
  if (head.rfind("GET ", 0) == 0) path = head.substr(4, head.find(' ', 4) - 4);
  std::string response;
  {
    absl::MutexLock lock(&mu_);
    ++requests_[path];
    auto it = files_.find(path);
    if (it == files_.end()) {
      response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else {
      response = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: ", it->second.content_type,
                              "\r\nContent-Length: ", it->second.bytes.size(),
                              "\r\nConnection: close\r\n\r\n", it->second.bytes);
    }
  }
  size_t sent = 0;
  while (sent < response.size()) {
    const int n = SSL_write(ssl, response.data() + sent, static_cast<int>(response.size() - sent));
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ERR_clear_error();
}

}  // namespace qwenimage::testing
