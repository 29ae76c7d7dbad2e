// FakeReplicaStore: what PostgresTaskStore gives replicas (replica_store.h), in memory, on top of
// a real TaskStore (SQLite) for the rows. One FakeReplicaStore is one replica's connection to a
// shared "database": the account lease (holder, epoch, expiry by the injected clock), each
// task's owner epoch and cancel request, and the change feed are shared by every connection
// made from it (Connect); the writer epoch and the listener are each connection's own.
//
// It is also the TaskStore handed to that replica's TaskManager: Update applies the fence as
// the PostgreSQL UPDATE does (refused with FencedError while a newer epoch owns the task;
// otherwise the task becomes the writer epoch's).
//
// Nothing is delivered on its own: the test calls Notify (or NotifyStored) where the database's
// trigger would fire, on the test's thread.
#ifndef QWENIMAGE_TESTS_TESTING_FAKE_REPLICA_STORE_H_
#define QWENIMAGE_TESTS_TESTING_FAKE_REPLICA_STORE_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/store/replica_store.h"
#include "service/store/task_store.h"

namespace qwenimage::testing {

class FakeReplicaStore final : public store::TaskStore, public store::ReplicaStore {
 public:
  // A new database: rows in `tasks`, times by `clock` (the database's clock). Both must outlive
  // every connection.
  FakeReplicaStore(store::TaskStore& tasks, const Clock& clock)
      : db_(std::make_shared<Database>(tasks, clock)) {}
  ~FakeReplicaStore() override { StopListening(); }

  // Another replica's connection to this one's database (its own writer epoch and listener).
  std::unique_ptr<FakeReplicaStore> Connect() {
    return std::unique_ptr<FakeReplicaStore>(new FakeReplicaStore(db_));
  }

  FakeReplicaStore(const FakeReplicaStore&) = delete;
  FakeReplicaStore& operator=(const FakeReplicaStore&) = delete;

  // ---- Test controls (shared by every connection).

  // The next `n` lease calls (Acquire, Renew, Release; any connection) fail with UNAVAILABLE
  // and change nothing: the database is unreachable.
  void FailLeaseCalls(int n) {
    absl::MutexLock lock(&db_->mu);
    db_->fail_lease_calls = n;
  }
  // Lease calls that failed so (every connection).
  int failed_lease_calls() const {
    absl::MutexLock lock(&db_->mu);
    return db_->failed_lease_calls;
  }
  // Gives lease `name` to `holder` for `ttl` whoever holds it and whether or not it expired
  // (what the database decides when its clock ran ahead of a paused holder's). Returns the new
  // epoch.
  int64_t TakeOver(absl::string_view name, absl::string_view holder, absl::Duration ttl) {
    absl::MutexLock lock(&db_->mu);
    return GrantLocked(name, holder, ttl);
  }
  // Delivers `change` to every listening connection, as the database's trigger would.
  void Notify(const store::TaskChange& change) {
    std::vector<std::shared_ptr<Listener>> targets;
    {
      absl::MutexLock lock(&db_->mu);
      targets = db_->listeners;
    }
    for (const auto& l : targets) l->on_change(change);
  }
  // Notify with the task's stored owner epoch and cancel request.
  void NotifyStored(const std::string& task_id) {
    store::TaskChange change;
    change.task_id = task_id;
    {
      absl::MutexLock lock(&db_->mu);
      change.owner_epoch = OwnerLocked(task_id);
      change.cancel_requested = db_->cancel_requested.contains(task_id);
    }
    Notify(change);
  }
  // Claims `task_id` for `epoch` (another replica's claim).
  void SetOwnerEpoch(const std::string& task_id, int64_t epoch) {
    absl::MutexLock lock(&db_->mu);
    db_->owner[task_id] = epoch;
  }
  int64_t owner_epoch(const std::string& task_id) const {
    absl::MutexLock lock(&db_->mu);
    return OwnerLocked(task_id);
  }
  bool cancel_requested(const std::string& task_id) const {
    absl::MutexLock lock(&db_->mu);
    return db_->cancel_requested.contains(task_id);
  }
  // The holder of lease `name` ("" if never taken), and its epoch.
  std::string lease_holder(absl::string_view name) const {
    absl::MutexLock lock(&db_->mu);
    auto it = db_->leases.find(name);
    return it == db_->leases.end() ? "" : it->second.holder;
  }
  int64_t lease_epoch(absl::string_view name) const {
    absl::MutexLock lock(&db_->mu);
    auto it = db_->leases.find(name);
    return it == db_->leases.end() ? 0 : it->second.epoch;
  }
  int64_t writer_epoch() const {
    absl::MutexLock lock(&mu_);
    return writer_epoch_;
  }
  bool listening() const {
    absl::MutexLock lock(&mu_);
    return listener_ != nullptr;
  }

  // ---- ReplicaStore.

  absl::StatusOr<std::optional<int64_t>> AcquireLease(absl::string_view name,
                                                      absl::string_view holder,
                                                      absl::Duration ttl) override {
    absl::MutexLock lock(&db_->mu);
    if (db_->fail_lease_calls > 0) return UnreachableLocked("acquire lease");
    auto it = db_->leases.find(name);
    if (it != db_->leases.end() && it->second.expires_at >= db_->clock.Now() &&
        it->second.holder != holder) {
      return std::optional<int64_t>();
    }
    return std::optional<int64_t>(GrantLocked(name, holder, ttl));
  }
  absl::Status RenewLease(absl::string_view name, absl::string_view holder, int64_t epoch,
                          absl::Duration ttl) override {
    absl::MutexLock lock(&db_->mu);
    if (db_->fail_lease_calls > 0) return UnreachableLocked("renew lease");
    auto it = db_->leases.find(name);
    const absl::Time now = db_->clock.Now();
    if (it == db_->leases.end() || it->second.holder != holder || it->second.epoch != epoch ||
        it->second.expires_at < now) {
      return absl::FailedPreconditionError(
          absl::StrCat("lease ", name, " at epoch ", epoch, " expired or was taken over"));
    }
    it->second.expires_at = now + ttl;
    return absl::OkStatus();
  }
  absl::Status ReleaseLease(absl::string_view name, absl::string_view holder,
                            int64_t epoch) override {
    absl::MutexLock lock(&db_->mu);
    if (db_->fail_lease_calls > 0) return UnreachableLocked("release lease");
    auto it = db_->leases.find(name);
    if (it != db_->leases.end() && it->second.holder == holder && it->second.epoch == epoch) {
      it->second.expires_at = db_->clock.Now() - absl::Microseconds(1);
    }
    return absl::OkStatus();
  }

  void SetWriterEpoch(int64_t epoch) override {
    absl::MutexLock lock(&mu_);
    writer_epoch_ = epoch;
  }

  absl::StatusOr<std::vector<store::TaskRecord>> ClaimUnfinished(int64_t epoch,
                                                                 int limit) override {
    if (limit <= 0) return absl::InvalidArgumentError("limit must be positive");
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<std::vector<store::TaskRecord>> unfinished = db_->tasks.ListUnfinished();
    if (!unfinished.ok()) return unfinished.status();
    std::vector<store::TaskRecord> claimed;
    for (store::TaskRecord& r : *unfinished) {  // oldest first
      if (static_cast<int>(claimed.size()) == limit) break;
      if (OwnerLocked(r.task.id()) >= epoch) continue;
      db_->owner[r.task.id()] = epoch;
      r.cancel_requested = db_->cancel_requested.contains(r.task.id());
      claimed.push_back(std::move(r));
    }
    return claimed;
  }
  absl::Status RequestCancel(absl::string_view task_id) override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<store::TaskRecord> row = db_->tasks.Get(task_id);
    if (absl::IsNotFound(row.status())) {
      return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
    }
    if (!row.ok()) return row.status();
    db_->cancel_requested.insert(std::string(task_id));
    ++db_->cancel_requests;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ListCancelRequests(int64_t epoch) override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<std::vector<store::TaskRecord>> unfinished = db_->tasks.ListUnfinished();
    if (!unfinished.ok()) return unfinished.status();
    std::vector<std::string> ids;
    for (const store::TaskRecord& r : *unfinished) {
      if (db_->cancel_requested.contains(r.task.id()) && OwnerLocked(r.task.id()) == epoch) {
        ids.push_back(r.task.id());
      }
    }
    return ids;
  }

  absl::Status StartListening(std::function<void(const store::TaskChange&)> on_change) override {
    auto listener = std::make_shared<Listener>(Listener{std::move(on_change)});
    {
      absl::MutexLock lock(&mu_);
      if (listener_ != nullptr) return absl::FailedPreconditionError("already listening");
      listener_ = listener;
    }
    absl::MutexLock lock(&db_->mu);
    db_->listeners.push_back(std::move(listener));
    return absl::OkStatus();
  }
  void StopListening() override {
    std::shared_ptr<Listener> listener;
    {
      absl::MutexLock lock(&mu_);
      listener = std::move(listener_);
      listener_ = nullptr;
    }
    if (listener == nullptr) return;
    absl::MutexLock lock(&db_->mu);
    auto& l = db_->listeners;
    l.erase(std::remove(l.begin(), l.end(), listener), l.end());
  }

  // How many RequestCancel calls were recorded (every connection).
  int cancel_requests() const {
    absl::MutexLock lock(&db_->mu);
    return db_->cancel_requests;
  }

  // ---- TaskStore, forwarded to the rows' store.

  absl::StatusOr<store::TaskRecord> InsertOrGet(const store::TaskRecord& record,
                                                bool* inserted) override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<store::TaskRecord> r = db_->tasks.InsertOrGet(record, inserted);
    if (r.ok()) WithCancelLocked(*r);
    return r;
  }
  absl::StatusOr<store::TaskRecord> Get(absl::string_view task_id) override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<store::TaskRecord> r = db_->tasks.Get(task_id);
    if (r.ok()) WithCancelLocked(*r);
    return r;
  }
  absl::Status Update(const store::TaskRecord& record, store::Durability durability) override {
    const int64_t writer = writer_epoch();
    absl::MutexLock lock(&db_->mu);
    const std::string& id = record.task.id();
    absl::StatusOr<store::TaskRecord> row = db_->tasks.Get(id);
    if (!row.ok()) return row.status();  // NOT_FOUND as the UPDATE finds no row
    if (const int64_t owner = OwnerLocked(id); owner > writer) {
      ++db_->fenced_updates;
      return store::FencedError(absl::StrCat("task ", id, " is owned by lease epoch ", owner,
                                             "; this replica writes as ", writer,
                                             " (its lease was lost)"));
    }
    absl::Status s = db_->tasks.Update(record, durability);
    if (s.ok()) db_->owner[id] = writer;
    if (s.ok() && after_update) after_update(record);
    return s;
  }
  absl::StatusOr<std::string> FindByUpstreamId(absl::string_view upstream_task_id) override {
    absl::MutexLock lock(&db_->mu);
    return db_->tasks.FindByUpstreamId(upstream_task_id);
  }
  absl::StatusOr<std::vector<store::TaskRecord>> List(const store::ListQuery& query) override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<std::vector<store::TaskRecord>> rows = db_->tasks.List(query);
    if (rows.ok()) {
      for (store::TaskRecord& r : *rows) WithCancelLocked(r);
    }
    return rows;
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListUnfinished() override {
    absl::MutexLock lock(&db_->mu);
    absl::StatusOr<std::vector<store::TaskRecord>> rows = db_->tasks.ListUnfinished();
    if (rows.ok()) {
      for (store::TaskRecord& r : *rows) WithCancelLocked(r);
    }
    return rows;
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<store::FinishedCursor>& after) override {
    absl::MutexLock lock(&db_->mu);
    return db_->tasks.ListFinishedBefore(cutoff, limit, after);
  }
  absl::Status Delete(absl::string_view task_id) override {
    absl::MutexLock lock(&db_->mu);
    absl::Status s = db_->tasks.Delete(task_id);
    if (s.ok()) {
      db_->owner.erase(task_id);
      db_->cancel_requested.erase(task_id);
    }
    return s;
  }

  // Test hook: runs after each successful Update through this connection (under the database's
  // lock: it must not call the store).
  std::function<void(const store::TaskRecord&)> after_update;

  // Updates refused by the fence (every connection).
  int fenced_updates() const {
    absl::MutexLock lock(&db_->mu);
    return db_->fenced_updates;
  }

 private:
  struct Lease {
    std::string holder;
    int64_t epoch = 0;
    absl::Time expires_at;
  };
  struct Listener {
    std::function<void(const store::TaskChange&)> on_change;
  };
  struct Database {
    Database(store::TaskStore& tasks_in, const Clock& clock_in)
        : tasks(tasks_in), clock(clock_in) {}
    store::TaskStore& tasks;
    const Clock& clock;
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Lease> leases ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, int64_t> owner ABSL_GUARDED_BY(mu);  // absent: 0
    absl::flat_hash_set<std::string> cancel_requested ABSL_GUARDED_BY(mu);
    std::vector<std::shared_ptr<Listener>> listeners ABSL_GUARDED_BY(mu);
    int fail_lease_calls ABSL_GUARDED_BY(mu) = 0;
    int failed_lease_calls ABSL_GUARDED_BY(mu) = 0;
    int cancel_requests ABSL_GUARDED_BY(mu) = 0;
    int fenced_updates ABSL_GUARDED_BY(mu) = 0;
  };

  int64_t OwnerLocked(absl::string_view task_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_->mu) {
    auto it = db_->owner.find(task_id);
    return it == db_->owner.end() ? 0 : it->second;
  }
  void WithCancelLocked(store::TaskRecord& r) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_->mu) {
    r.cancel_requested = db_->cancel_requested.contains(r.task.id());
  }
  absl::Status UnreachableLocked(absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_->mu) {
    --db_->fail_lease_calls;
    ++db_->failed_lease_calls;
    return absl::UnavailableError(absl::StrCat(what, ": the database is unreachable (test)"));
  }
  // The lease's next epoch is above every earlier one and every task's owner (as the first
  // PostgreSQL lease starts above the owner epochs rows carry).
  int64_t GrantLocked(absl::string_view name, absl::string_view holder, absl::Duration ttl)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_->mu) {
    Lease& lease = db_->leases[name];
    int64_t epoch = lease.epoch + 1;
    if (lease.epoch == 0) {
      for (const auto& [id, owner] : db_->owner) epoch = std::max(epoch, owner + 1);
    }
    lease.holder = std::string(holder);
    lease.epoch = epoch;
    lease.expires_at = db_->clock.Now() + ttl;
    return epoch;
  }

  explicit FakeReplicaStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  const std::shared_ptr<Database> db_;
  mutable absl::Mutex mu_;
  int64_t writer_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Listener> listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_FAKE_REPLICA_STORE_H_
