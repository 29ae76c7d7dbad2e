#include "bench/load.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace qwenimage::bench {
namespace {

constexpr char kTenantHeader[] = "x-qwenimage-tenant";

// Shared by the calls of one run: results under a lock, and a count of calls still out.
class Collector {
 public:
  void Record(absl::Duration latency, const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    ++result_.requests;
    result_.latencies.push_back(latency);
    if (!status.ok()) ++result_.errors[CodeName(status.error_code())];
  }
  void Started() {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  void Finished() {
    absl::MutexLock lock(&mu_);
    --outstanding_;
  }
  LoadResult Wait(absl::Time start) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &outstanding_));
    result_.wall = absl::Now() - start;
    return std::move(result_);
  }

 private:
  absl::Mutex mu_;
  LoadResult result_ ABSL_GUARDED_BY(mu_);
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

struct GetCall {
  grpc::ClientContext ctx;
  v1::GetTaskRequest request;
  v1::Task reply;
  absl::Time start;
};

void IssueGet(v1::ImageService::Stub& stub, const std::string& tenant,
              const std::string& task_id, absl::Time deadline, Collector& collector) {
  auto call = std::make_shared<GetCall>();
  call->ctx.AddMetadata(kTenantHeader, tenant);
  call->request.set_task_id(task_id);
  call->start = absl::Now();
  stub.async()->GetTask(&call->ctx, &call->request, &call->reply,
                        [&stub, &tenant, &task_id, deadline, &collector,
                         call](grpc::Status status) {
                          absl::Time now = absl::Now();
                          collector.Record(now - call->start, status);
                          if (now < deadline) {
                            IssueGet(stub, tenant, task_id, deadline, collector);
                          } else {
                            collector.Finished();
                          }
                        });
}

struct CreateCall {
  grpc::ClientContext ctx;
  v1::Task reply;
  absl::Time start;
};

}  // namespace

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

LoadResult RunGetTaskLoad(v1::ImageService::Stub& stub, const std::string& tenant,
                          const std::string& task_id, int concurrency, absl::Duration duration) {
  Collector collector;
  const absl::Time start = absl::Now();
  for (int i = 0; i < concurrency; ++i) {
    collector.Started();
    IssueGet(stub, tenant, task_id, start + duration, collector);
  }
  return collector.Wait(start);
}

LoadResult CreateAll(v1::ImageService::Stub& stub,
                     const std::vector<std::pair<std::string, v1::CreateTaskRequest>>& requests,
                     std::vector<v1::Task>* tasks) {
  return CreateAll(std::vector<v1::ImageService::Stub*>{&stub}, requests, tasks);
}

LoadResult CreateAll(const std::vector<v1::ImageService::Stub*>& stubs,
                     const std::vector<std::pair<std::string, v1::CreateTaskRequest>>& requests,
                     std::vector<v1::Task>* tasks) {
  Collector collector;
  std::vector<std::unique_ptr<CreateCall>> calls;
  const absl::Time start = absl::Now();
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& [tenant, request] = requests[i];
    v1::ImageService::Stub& stub = *stubs[i % stubs.size()];
    auto call = std::make_unique<CreateCall>();
    call->ctx.AddMetadata(kTenantHeader, tenant);
    call->start = absl::Now();
    collector.Started();
    CreateCall* c = call.get();
    stub.async()->CreateTask(&c->ctx, &request, &c->reply, [c, &collector](grpc::Status status) {
      collector.Record(absl::Now() - c->start, status);
      collector.Finished();
    });
    calls.push_back(std::move(call));
  }
  LoadResult result = collector.Wait(start);
  tasks->clear();
  for (const auto& call : calls) tasks->push_back(call->reply);
  return result;
}

}  // namespace qwenimage::bench
