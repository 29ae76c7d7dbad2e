#include "service/metrics/grpc_metrics_interceptor.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace qwenimage::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

constexpr char kTenantHeader[] = "x-qwenimage-tenant";
constexpr size_t kMaxLoggedTenant = 64;

std::string GrpcCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

// The tenant header as logged: bounded, and only characters that keep the line parseable.
std::string LoggableTenant(grpc::string_ref value) {
  std::string out(value.data(), std::min(value.size(), kMaxLoggedTenant));
  for (char& c : out) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return out;
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(Metrics& metrics, ServerRpcInfo* info)
      : metrics_(metrics),
        method_(MethodLabel(info->method())),
        streaming_(info->type() == ServerRpcInfo::Type::SERVER_STREAMING ||
                   info->type() == ServerRpcInfo::Type::BIDI_STREAMING),
        start_(absl::Now()) {
    if (streaming_) metrics_.grpc_streams_in_flight.Add({{"method", method_}}).Increment();
  }

  ~MetricsInterceptor() override {
    if (streaming_) metrics_.grpc_streams_in_flight.Add({{"method", method_}}).Decrement();
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (auto it = md->find(kTenantHeader); it != md->end()) {
        tenant_ = LoggableTenant(it->second);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      const std::string code = GrpcCodeName(status.error_code());
      metrics_.grpc_handled.Add({{"method", method_}, {"code", code}}).Increment();
      metrics_.grpc_handling_seconds.Add({{"method", method_}}, Metrics::FastBuckets())
          .Observe(seconds);
      spdlog::debug("grpc call method={} code={} latency_ms={:.1f} tenant={}", method_, code,
                    seconds * 1000, tenant_.empty() ? "-" : tenant_);
    }
    methods->Proceed();
  }

 private:
  Metrics& metrics_;
  const std::string method_;
  const bool streaming_;
  const absl::Time start_;
  std::string tenant_;
};

}  // namespace

std::string MethodLabel(absl::string_view full_method) {
  for (absl::string_view prefix : {"/qwenimage.", "/grpc.health.", "/grpc.reflection."}) {
    if (absl::StartsWith(full_method, prefix)) return std::string(full_method);
  }
  return "other";
}

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  return new MetricsInterceptor(metrics_, info);
}

}  // namespace qwenimage::metrics
