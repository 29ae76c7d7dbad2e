// EchoServer: a bare gRPC server in the bench process whose GetTask answers a fixed Task at once;
// the baseline that the gateway's GetTask latency is compared with.
#ifndef QWENIMAGE_BENCH_ECHO_SERVER_H_
#define QWENIMAGE_BENCH_ECHO_SERVER_H_

#include <memory>

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

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_ECHO_SERVER_H_
