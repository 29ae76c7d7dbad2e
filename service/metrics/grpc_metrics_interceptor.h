// GrpcMetricsInterceptorFactory: a server interceptor that counts every call by method and
// status code, times it to completion (streams too), tracks open streams and writes an access log.
#ifndef QWENIMAGE_SERVICE_METRICS_GRPC_METRICS_INTERCEPTOR_H_
#define QWENIMAGE_SERVICE_METRICS_GRPC_METRICS_INTERCEPTOR_H_

#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "service/metrics/metrics.h"

namespace qwenimage::metrics {

class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsInterceptorFactory(Metrics& metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  Metrics& metrics_;
};

// The method label for a full method name: the name itself for this gateway's services and the
// standard ones, "other" for anything else, so a caller cannot mint label values.
std::string MethodLabel(absl::string_view full_method);

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_GRPC_METRICS_INTERCEPTOR_H_
