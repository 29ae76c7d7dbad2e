#include "bench/echo_server.h"

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

}  // namespace qwenimage::bench
