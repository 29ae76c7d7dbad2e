// ReplicaRole: which replica of several on one database runs the tasks. One account lease
// (ReplicaStore) elects the replica that admits, submits and polls for the whole account, so the
// account's limits (running tasks, submits per second, the task-query budget) and tenant fairness
// hold across replicas exactly as on one node; every replica accepts CreateTask (stored for the
// holder) and serves Get, List, Watch and ReadImage from the shared stores.
//
// A standby tries to take the lease every ttl/3; it is free once its holder released it (a
// drain) or let it expire (died, hung, cut off). The new holder's epoch is greater than every
// earlier one: it claims the unfinished tasks of older epochs (FOR UPDATE SKIP LOCKED) and
// resumes them as a restart would — polling stored upstream ids, resolving creates whose reply
// never came, ending a sync call cut short as outcome-unknown — never re-sending. After that it
// claims new tasks on each change notification and every claim_interval (for missed ones), and
// carries out cancel requests the same way.
//
// The holder renews every ttl/3. It counts its lease from before each renewal was sent, so its
// own view ends no later than the database's; once that view ends unrenewed (the database was
// unreachable, the process was paused), or a write is refused by the fence, it calls `on_lost`
// (the gateway exits, fail-stop: a replica that may be stale stops, and a restart rejoins as a
// standby). Safety never rests on those clocks: the fence in every UPDATE rejects a stale owner.
#ifndef QWENIMAGE_SERVICE_TASKS_REPLICA_ROLE_H_
#define QWENIMAGE_SERVICE_TASKS_REPLICA_ROLE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/store/replica_store.h"
#include "service/tasks/task_manager.h"

namespace qwenimage::tasks {

struct ReplicaRoleOptions {
  // One lease per DashScope account: replicas sharing a database share the account.
  std::string lease_name = "dashscope-account";
  // Unique per process (host name, pid and a random part).
  std::string holder;
  // Longer than a pause worth riding out; failover takes up to ttl + ttl/3.
  absl::Duration lease_ttl = absl::Seconds(15);
  // Claims and cancel requests are looked for this often besides each notification.
  absl::Duration claim_interval = absl::Seconds(2);
  int claim_batch = 500;
  // Told the epoch each time this replica takes the lease (metrics); may be unset.
  std::function<void(int64_t epoch)> on_lead;
};

class ReplicaRole {
 public:
  ReplicaRole(ReplicaRoleOptions options, store::ReplicaStore& store, TaskManager& manager,
              Executor& executor, const Clock& clock,
              std::function<void(const absl::Status&)> on_lost);
  ~ReplicaRole();

  // Starts the change feed, then tries for the lease at once (a lone replica leads from its
  // start), then every ttl/3.
  absl::Status Start();
  // Stops trying and renewing; a held lease is released, so that a standby takes over at once.
  // Call after the manager's drain: the tasks' records stay as they are for the next holder.
  void Stop();

  bool Leading() const;
  int64_t epoch() const;

 private:
  void Tick();
  void TryAcquire();
  void Renew();
  void Sweep();
  void ScheduleSweep();  // coalesced: at most one pending
  void OnChange(const store::TaskChange& change);
  void Lost(const absl::Status& status);

  const ReplicaRoleOptions options_;
  store::ReplicaStore& store_;
  TaskManager& manager_;
  Executor& executor_;
  const Clock& clock_;
  const std::function<void(const absl::Status&)> on_lost_;

  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not holding the lease
  absl::Time valid_until_ ABSL_GUARDED_BY(mu_);  // this replica's own view of its lease
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_);
  bool sweep_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool sweep_again_ ABSL_GUARDED_BY(mu_) = false;
  Executor::TimerId tick_ ABSL_GUARDED_BY(mu_) = 0;
};

// A holder id for this process: "<host>/<pid>/<random>".
std::string NewLeaseHolder();

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_REPLICA_ROLE_H_
