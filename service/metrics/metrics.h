// Metrics: the gateway's Prometheus registry and every metric family, with the label sets they
// take. Layers get what they need from it by reference (through the adapters in this folder).
#ifndef QWENIMAGE_SERVICE_METRICS_METRICS_H_
#define QWENIMAGE_SERVICE_METRICS_METRICS_H_

#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace qwenimage::metrics {

struct BuildInfo {
  std::string version;
  std::string git_sha;
};

// The version and git sha this binary was built from ("unknown" outside a git checkout).
BuildInfo CurrentBuildInfo();

class Metrics {
  // First: every family below is a reference into it, so it must be built before them.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  explicit Metrics(const BuildInfo& build = CurrentBuildInfo());

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // Buckets in seconds: fast calls (gRPC, store, upstream API) and slow ones (task phases).
  static prometheus::Histogram::BucketBoundaries FastBuckets();
  static prometheus::Histogram::BucketBoundaries SlowBuckets();

  // gRPC server, labels {method, code} / {method}.
  prometheus::Family<prometheus::Counter>& grpc_handled;
  prometheus::Family<prometheus::Histogram>& grpc_handling_seconds;
  prometheus::Family<prometheus::Gauge>& grpc_streams_in_flight;
  // Tasks, labels {model} (+ {state} when finished).
  prometheus::Family<prometheus::Counter>& tasks_created;
  prometheus::Family<prometheus::Counter>& tasks_finished;
  prometheus::Family<prometheus::Histogram>& task_queue_wait_seconds;
  prometheus::Family<prometheus::Histogram>& task_upstream_run_seconds;
  prometheus::Family<prometheus::Histogram>& task_download_seconds;
  prometheus::Family<prometheus::Histogram>& task_duration_seconds;
  prometheus::Family<prometheus::Counter>& submit_retries;  // {model, code}
  // Retention: finished tasks deleted by --task_ttl ({what="task"}) and tasks whose images
  // --image_ttl deleted ({what="images"}).
  prometheus::Family<prometheus::Counter>& retention_deleted;
  // Upstream HTTP, labels {endpoint, status, code} / {endpoint}; throttled {code}.
  prometheus::Family<prometheus::Counter>& upstream_requests;
  prometheus::Family<prometheus::Histogram>& upstream_request_seconds;
  prometheus::Family<prometheus::Counter>& upstream_throttled;
  prometheus::Family<prometheus::Counter>& upstream_task_queries;
  prometheus::Family<prometheus::Gauge>& upstream_task_query_budget;
  // Stores: images and bytes written; operation latency {store, op}.
  prometheus::Family<prometheus::Counter>& images_stored;
  prometheus::Family<prometheus::Counter>& image_bytes_stored;
  prometheus::Family<prometheus::Histogram>& store_operation_seconds;
  // Process state: build info {version, git_sha}; 1 while draining.
  prometheus::Family<prometheus::Gauge>& build_info;
  prometheus::Family<prometheus::Gauge>& draining;
  // 1 while upstream refuses the DashScope key or account (submissions and polls paused).
  prometheus::Family<prometheus::Gauge>& upstream_credentials_refused;
  // Replicas on PostgreSQL: the account lease's epoch while this replica holds it, 0 while it is
  // a standby (no sample on a single node).
  prometheus::Family<prometheus::Gauge>& lease_epoch;
  // Task state writes that failed (the task was held and the write retried).
  prometheus::Family<prometheus::Counter>& store_write_failures;
  // Creates refused by a tenant quota, labels {quota} (+ {tenant} when tenants are configured).
  prometheus::Family<prometheus::Counter>& quota_rejections;
};

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_METRICS_H_
