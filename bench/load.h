// Unary load on the gRPC callback API: a fixed number of calls kept in flight for a while
// (closed loop), or a batch of calls fired at once. No thread per request.
#ifndef QWENIMAGE_BENCH_LOAD_H_
#define QWENIMAGE_BENCH_LOAD_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "qwenimage/v1/image_service.grpc.pb.h"

namespace qwenimage::bench {

struct LoadResult {
  std::vector<absl::Duration> latencies;  // of every finished call, ok or not
  std::map<std::string, int64_t> errors;  // by gRPC code name
  int64_t requests = 0;
  absl::Duration wall;
};

// Keeps `concurrency` GetTask calls (of `tenant`) in flight on `stub` for `duration`.
LoadResult RunGetTaskLoad(v1::ImageService::Stub& stub, const std::string& tenant,
                          const std::string& task_id, int concurrency, absl::Duration duration);

// Fires every request at once (tenant per request) and waits for all replies. `tasks` gets the
// created tasks of the successful calls, in request order (empty Task for failures).
LoadResult CreateAll(v1::ImageService::Stub& stub,
                     const std::vector<std::pair<std::string, v1::CreateTaskRequest>>& requests,
                     std::vector<v1::Task>* tasks);
// The same with request i sent on stubs[i % stubs.size()] (e.g. alternating between replicas).
LoadResult CreateAll(const std::vector<v1::ImageService::Stub*>& stubs,
                     const std::vector<std::pair<std::string, v1::CreateTaskRequest>>& requests,
                     std::vector<v1::Task>* tasks);

// "OK", "RESOURCE_EXHAUSTED", ...
std::string CodeName(grpc::StatusCode code);

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_LOAD_H_
