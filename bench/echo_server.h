// EchoServer: a bare gRPC server whose GetTask answers a fixed Task at once; the baseline that the
// gateway's GetTask latency is compared with. The bench runs it in a process of its own (like
// the gateway), by starting itself with --echo_reply.
#ifndef QWENIMAGE_BENCH_ECHO_SERVER_H_
#define QWENIMAGE_BENCH_ECHO_SERVER_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "qwenimage/v1/image_service.grpc.pb.h"

namespace qwenimage::bench {

class EchoServer {
 public:
  // Serves on 127.0.0.1:0, answering every GetTask with `reply`.
  explicit EchoServer(v1::Task reply);
  ~EchoServer();

  int port() const { return port_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// The echo process's main: serves the Task serialized in `reply_path`, prints
// "listening on port N" on stdout and runs until killed. Returns non-zero if it cannot start.
int ServeEcho(const std::string& reply_path);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_ECHO_SERVER_H_
