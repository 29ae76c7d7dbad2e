// CreateResolver: finds the upstream task that an async create with an unknown outcome made
// (the reply was lost after the request may have reached DashScope), and adopts it only with
// proof that it is this create's task, never by guessing.
//
// Proof: the batch list is per account (key); a candidate has the model, was created between
// the send and the failure (with clock skew allowed), is held by no other gateway task, and,
// once it has finished, reports this create's own prompt (results[].orig_prompt) for each of its
// n images. While candidates run the resolver keeps polling them (the caller shows the task
// PENDING/RUNNING). Exactly one proven candidate is adopted; none or several is "unproven".
#ifndef QWENIMAGE_SERVICE_TASKS_CREATE_RESOLVER_H_
#define QWENIMAGE_SERVICE_TASKS_CREATE_RESOLVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/common/rate_limiter.h"
#include "service/dashscope/types.h"
#include "service/dashscope/upstream.h"

namespace qwenimage::tasks {

struct CreateResolverOptions {
  int empty_lookups = 4;                         // looks while the list shows no candidate
  absl::Duration lookup_spacing = absl::Seconds(2);
  absl::Duration skew = absl::Seconds(2);        // our clock against upstream's gmt_create
  absl::Duration window_margin = absl::Seconds(5);
  absl::Duration candidate_poll = absl::Seconds(2);
  absl::Duration max_wait = absl::Minutes(30);   // candidates still running then: unproven
};

class CreateResolver {
 public:
  struct Request {
    std::string model;
    std::string prompt;
    int n = 1;
    absl::Time sent;    // when the create left (the task's submit_time)
    absl::Time failed;  // when its outcome became unknown (after a restart: the start)
  };
  struct Result {
    // The proven upstream task, finished with its results; nullopt if unproven.
    std::optional<dashscope::UpstreamTask> adopted;
    std::vector<std::string> candidates;  // upstream ids considered (for support)
    std::string why;                      // why it is unproven
  };
  // The most advanced status among running candidates, for the task's published state.
  using Progress = absl::AnyInvocable<void(dashscope::TaskStatus)>;
  using Done = absl::AnyInvocable<void(Result)>;
  // Whether another gateway task already holds `upstream_id` (the store's claims).
  using HeldElsewhere = std::function<bool(const std::string& upstream_id)>;

  CreateResolver(CreateResolverOptions options, dashscope::Upstream& upstream,
                 RateLimiter& query_budget, Executor& executor, const Clock& clock,
                 HeldElsewhere held_elsewhere);

  // Callbacks run on the executor, `done` exactly once unless Stop() comes first.
  void Resolve(Request request, Progress progress, Done done);
  // Nothing more is sent or reported from now on. Idempotent.
  void Stop() { stopped_.store(true); }

 private:
  struct Job;
  void List(const std::shared_ptr<Job>& job, absl::Time not_before);
  void OnListed(const std::shared_ptr<Job>& job, absl::StatusOr<dashscope::TaskListPage> page);
  // Polls the first unfinished candidate at or after `from`; past the last one, ends the round.
  void PollCandidates(const std::shared_ptr<Job>& job, size_t from, absl::Time not_before);
  void OnPolled(const std::shared_ptr<Job>& job, size_t i,
                absl::StatusOr<dashscope::UpstreamTask> polled);
  void Decide(const std::shared_ptr<Job>& job);
  bool Proves(const Job& job, const dashscope::UpstreamTask& task) const;

  const CreateResolverOptions options_;
  dashscope::Upstream& upstream_;
  RateLimiter& query_budget_;
  Executor& executor_;
  const Clock& clock_;
  const HeldElsewhere held_elsewhere_;
  std::atomic<bool> stopped_{false};
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_CREATE_RESOLVER_H_
