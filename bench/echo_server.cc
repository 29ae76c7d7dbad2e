#include "bench/echo_server.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <utility>

namespace qwenimage::bench {

class EchoServer::Service : public v1::ImageService::CallbackService {
 public:
  explicit Service(v1::Task reply) : reply_(std::move(reply)) {}

  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* ctx,
                                    const v1::GetTaskRequest* request,
                                    v1::Task* response) override {
    *response = reply_;
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::Task reply_;
};

EchoServer::EchoServer(v1::Task reply) : service_(std::make_unique<Service>(std::move(reply))) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
}

EchoServer::~EchoServer() { server_->Shutdown(); }

int ServeEcho(const std::string& reply_path) {
  v1::Task reply;
  std::ifstream in(reply_path, std::ios::binary);
  if (!in || !reply.ParseFromIstream(&in)) {
    std::cerr << "cannot read the echo reply from " << reply_path << "\n";
    return 1;
  }
  EchoServer server(std::move(reply));
  if (server.port() == 0) return 1;
  std::cout << "listening on port " << server.port() << std::endl;
  for (;;) pause();  // the bench kills this process when the scenario ends
}

}  // namespace qwenimage::bench
