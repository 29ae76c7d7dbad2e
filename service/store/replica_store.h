// ReplicaStore: what several gateway replicas sharing one task database need from it beyond the
// TaskStore — the account lease that elects the one replica doing admission and polling, the
// fencing of a stale owner's writes, claims of unowned tasks, callers' cancel requests for the
// owner to carry out, and a change feed that wakes watchers on other replicas.
// PostgresTaskStore implements it; a single node (SQLite) needs none of it.
//
// Correctness never rests on timing: the lease's expiry decides only who may claim tasks next;
// the epoch compared in every UPDATE decides whose write lands. The change feed is a wake-up, not
// the truth: a missed change costs latency, never correctness (readers re-read the row).
#ifndef QWENIMAGE_SERVICE_STORE_REPLICA_STORE_H_
#define QWENIMAGE_SERVICE_STORE_REPLICA_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/store/task_store.h"

namespace qwenimage::store {

// A row written (inserted, deleted, or its task or cancel request changed). An empty task_id
// means "changes may have been missed" (the feed reconnected): re-read everything of interest.
struct TaskChange {
  std::string task_id;
  int64_t owner_epoch = 0;  // the epoch that owns the task now (0: unclaimed)
  bool cancel_requested = false;
};

class ReplicaStore {
 public:
  virtual ~ReplicaStore() = default;

  // Takes the lease `name` for `holder` if it is free, expired, or already `holder`'s, for `ttl`
  // by the database's clock. Returns its new epoch (greater than every earlier one), or nullopt
  // while another holder's lease runs.
  virtual absl::StatusOr<std::optional<int64_t>> AcquireLease(absl::string_view name,
                                                              absl::string_view holder,
                                                              absl::Duration ttl) = 0;
  // Extends a held lease by `ttl` from now. FAILED_PRECONDITION once it is no longer `holder`'s
  // at `epoch` (it expired, whether or not another replica took it since).
  virtual absl::Status RenewLease(absl::string_view name, absl::string_view holder, int64_t epoch,
                                  absl::Duration ttl) = 0;
  // Ends a held lease now, so that another replica takes over without waiting for its expiry.
  virtual absl::Status ReleaseLease(absl::string_view name, absl::string_view holder,
                                    int64_t epoch) = 0;

  // The epoch this process writes as. From now on TaskStore::Update takes the task for `epoch`
  // and is refused (IsFenced) if a newer epoch has claimed it. 0 (the start): no lease; an Update
  // of a claimed task is refused.
  virtual void SetWriterEpoch(int64_t epoch) = 0;
  // Claims for `epoch` up to `limit` unfinished tasks owned by an older one (unclaimed new tasks,
  // or a lost owner's), skipping rows another transaction holds locked; oldest first.
  virtual absl::StatusOr<std::vector<TaskRecord>> ClaimUnfinished(int64_t epoch, int limit) = 0;
  // Records a caller's cancel of an unfinished task, for its owner to carry out (it sees
  // TaskRecord::cancel_requested). NOT_FOUND if there is no such task.
  virtual absl::Status RequestCancel(absl::string_view task_id) = 0;
  // The unfinished tasks owned by `epoch` with a cancel request.
  virtual absl::StatusOr<std::vector<std::string>> ListCancelRequests(int64_t epoch) = 0;

  // Starts delivering changes to `on_change`, from a thread of the store's own (blocking is
  // fine there, briefly). Once only; StopListening (or destruction) ends it.
  virtual absl::Status StartListening(std::function<void(const TaskChange&)> on_change) = 0;
  virtual void StopListening() = 0;
};

// The refusal of a write by a stale owner (ReplicaStore::SetWriterEpoch).
absl::Status FencedError(absl::string_view message);
bool IsFenced(const absl::Status& status);

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_REPLICA_STORE_H_
