#include "service/metrics/metrics.h"

#ifndef QWENIMAGE_VERSION
#define QWENIMAGE_VERSION "unknown"
#endif
#ifndef QWENIMAGE_GIT_SHA
#define QWENIMAGE_GIT_SHA "unknown"
#endif

namespace qwenimage::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

}  // namespace

BuildInfo CurrentBuildInfo() { return BuildInfo{QWENIMAGE_VERSION, QWENIMAGE_GIT_SHA}; }

prometheus::Histogram::BucketBoundaries Metrics::FastBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

prometheus::Histogram::BucketBoundaries Metrics::SlowBuckets() {
  return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800};
}

Metrics::Metrics(const BuildInfo& build)
    : registry_(std::make_shared<prometheus::Registry>()),
      grpc_handled(BuildCounter()
                       .Name("qwenimage_grpc_server_handled_total")
                       .Help("gRPC calls completed, by method and status code")
                       .Register(*registry_)),
      grpc_handling_seconds(BuildHistogram()
                                .Name("qwenimage_grpc_server_handling_seconds")
                                .Help("gRPC call duration from start to status, by method")
                                .Register(*registry_)),
      grpc_streams_in_flight(BuildGauge()
                                 .Name("qwenimage_grpc_server_streams_in_flight")
                                 .Help("Server-streaming calls open now (WatchTask and kin)")
                                 .Register(*registry_)),
      tasks_created(BuildCounter()
                        .Name("qwenimage_tasks_created_total")
                        .Help("Tasks created (idempotent repeats excluded), by model")
                        .Register(*registry_)),
      tasks_finished(BuildCounter()
                         .Name("qwenimage_tasks_finished_total")
                         .Help("Tasks that reached a terminal state, by model and state")
                         .Register(*registry_)),
      task_queue_wait_seconds(BuildHistogram()
                                  .Name("qwenimage_task_queue_wait_seconds")
                                  .Help("Time from creation to upstream submission, by model")
                                  .Register(*registry_)),
      task_upstream_run_seconds(BuildHistogram()
                                    .Name("qwenimage_task_upstream_run_seconds")
                                    .Help("Upstream generation time, by model")
                                    .Register(*registry_)),
      task_download_seconds(BuildHistogram()
                                .Name("qwenimage_task_download_seconds")
                                .Help("Time to download and store a task's images, by model")
                                .Register(*registry_)),
      task_duration_seconds(BuildHistogram()
                                .Name("qwenimage_task_duration_seconds")
                                .Help("Time from creation to a terminal state, by model and state")
                                .Register(*registry_)),
      submit_retries(BuildCounter()
                         .Name("qwenimage_upstream_submit_retries_total")
                         .Help("Submissions retried after an upstream refusal, by model and code")
                         .Register(*registry_)),
      retention_deleted(BuildCounter()
                            .Name("qwenimage_retention_deleted_total")
                            .Help("Finished tasks deleted by --task_ttl (what=task) and tasks "
                                  "whose images --image_ttl deleted (what=images)")
                            .Register(*registry_)),
      upstream_requests(BuildCounter()
                            .Name("qwenimage_upstream_requests_total")
                            .Help("DashScope HTTP requests, by endpoint, HTTP status and code")
                            .Register(*registry_)),
      upstream_request_seconds(BuildHistogram()
                                   .Name("qwenimage_upstream_request_seconds")
                                   .Help("DashScope HTTP request latency, by endpoint")
                                   .Register(*registry_)),
      upstream_throttled(BuildCounter()
                             .Name("qwenimage_upstream_throttled_total")
                             .Help("DashScope 429 replies, by code")
                             .Register(*registry_)),
      upstream_task_queries(BuildCounter()
                                .Name("qwenimage_upstream_task_queries_total")
                                .Help("Task-API calls (GET task, list, cancel) spent from the "
                                      "account's query budget")
                                .Register(*registry_)),
      upstream_task_query_budget(BuildGauge()
                                     .Name("qwenimage_upstream_task_query_budget_per_second")
                                     .Help("Configured task-API calls per second for the account")
                                     .Register(*registry_)),
      images_stored(BuildCounter()
                        .Name("qwenimage_images_stored_total")
                        .Help("Generated images written to the image store")
                        .Register(*registry_)),
      image_bytes_stored(BuildCounter()
                             .Name("qwenimage_image_stored_bytes_total")
                             .Help("Bytes of generated images written to the image store")
                             .Register(*registry_)),
      store_operation_seconds(BuildHistogram()
                                  .Name("qwenimage_store_operation_seconds")
                                  .Help("Task and image store operation latency, by store and op")
                                  .Register(*registry_)),
      build_info(BuildGauge()
                     .Name("qwenimage_build_info")
                     .Help("Always 1; labels name the version and git sha of this build")
                     .Register(*registry_)),
      draining(BuildGauge()
                   .Name("qwenimage_draining")
                   .Help("1 while the gateway drains after SIGTERM/SIGINT")
                   .Register(*registry_)),
      upstream_credentials_refused(
          BuildGauge()
              .Name("qwenimage_upstream_credentials_refused")
              .Help("1 while DashScope refuses the API key or account; submissions and polls "
                    "are paused")
              .Register(*registry_)),
      lease_epoch(BuildGauge()
                      .Name("qwenimage_lease_epoch")
                      .Help("the account lease's epoch while this replica holds it (it admits "
                            "and polls for the account); 0 while a standby")
                      .Register(*registry_)),
      store_write_failures(BuildCounter()
                               .Name("qwenimage_store_write_failures_total")
                               .Help("Task state writes that failed; the task was held and the "
                                     "write retried")
                               .Register(*registry_)),
      quota_rejections(BuildCounter()
                           .Name("qwenimage_quota_rejections_total")
                           .Help("Creates refused RESOURCE_EXHAUSTED by a tenant quota, by quota "
                                 "(and tenant, with --auth=tokens)")
                           .Register(*registry_)) {
  build_info.Add({{"version", build.version}, {"git_sha", build.git_sha}}).Set(1);
  draining.Add({}).Set(0);
  upstream_credentials_refused.Add({}).Set(0);
  store_write_failures.Add({});
  retention_deleted.Add({{"what", "task"}});
  retention_deleted.Add({{"what", "images"}});
}

}  // namespace qwenimage::metrics
