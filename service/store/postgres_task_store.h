// PostgresTaskStore: TaskStore on a PostgreSQL database (libpq), for replicas that share one
// database. Same semantics as SqliteTaskStore: the task proto is stored whole (bytea), and the
// columns beside it exist only to index, filter and enforce the unique claims.
#ifndef QWENIMAGE_SERVICE_STORE_POSTGRES_TASK_STORE_H_
#define QWENIMAGE_SERVICE_STORE_POSTGRES_TASK_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/replica_store.h"
#include "service/store/task_store.h"

namespace qwenimage::store {

// Times are kept to the microsecond (bigint Unix microseconds), ids compare bytewise (COLLATE
// "C"), so ordering, cursors and the created_* bounds match SqliteTaskStore exactly.
//
// Blocking: every call takes a connection from a small pool (waiting while all are in use) and
// runs one or two autocommit statements on it; call from executor threads. Every connection runs
// with `statement_timeout`, so no call waits on the server longer than that (DEADLINE_EXCEEDED,
// nothing written); TCP keepalives notice a server that vanished.
//
// A lost connection (the server restarted, an admin terminated the backend, the network broke)
// is retried on a fresh connection, up to `max_attempts` with doubling back-off, then
// UNAVAILABLE. A write whose connection broke may or may not have committed; every write is
// idempotent, so the retry is harmless either way: Update writes the same row again, Delete
// accepts that the row is already gone, and InsertOrGet recognises its own row (same id and
// content) as inserted by this call.
//
// Durability: kSynced writes commit with synchronous_commit = on (WAL flushed, and replicated if
// the server is set up for synchronous standbys); kRelaxed writes with synchronous_commit = off,
// which survives a gateway crash and may lose the last fraction of a second of commits if the
// database server itself crashes. The level is a session setting switched only when a
// connection's next write needs the other one. InsertOrGet is always kSynced; Delete runs at the
// connection's current level.
//
// Schema: versioned, append-only migrations run at Open under a session advisory lock, so
// replicas starting together migrate once; each step and its row in `schema_version` commit
// together. Every query names its columns, so a later step may add columns without touching the
// existing ones.
//
// Replicas (ReplicaStore, postgres_replication.cc): the lease lives in the `leases` table with
// the database's clock deciding expiry; the fence is `owner_epoch <= $epoch` in the UPDATE;
// claims are one UPDATE over a FOR UPDATE SKIP LOCKED sub-select; the change feed is a trigger's
// pg_notify, received by LISTEN on a connection of its own (outside the pool, reconnecting with
// back-off and reporting a resync after each reconnect).
class PostgresTaskStore : public TaskStore, public ReplicaStore {
 public:
  // The schema version this build writes (max(version) in schema_version).
  static constexpr int kSchemaVersion = 3;
  // pg_advisory_lock key held while migrating ("qwenimg1").
  static constexpr int64_t kMigrationLockKey = 0x7177656e696d6731;

  struct Options {
    // A libpq connection string ("host=... dbname=...") or URI; "" = libpq's environment
    // (PGHOST, PGDATABASE, PGPASSFILE, ...). Settings in it win over the ones below. Never logged
    // or put in an error: it may hold a password.
    std::string dsn;
    int pool_size = 8;
    absl::Duration statement_timeout = absl::Seconds(5);
    absl::Duration connect_timeout = absl::Seconds(5);
    // Bounds Open's wait for the migration lock and the migration itself.
    absl::Duration migration_timeout = absl::Minutes(5);
    // Attempts of one call when its connection is lost, and the pause after the first loss
    // (doubled after each further one).
    int max_attempts = 3;
    absl::Duration retry_backoff = absl::Milliseconds(50);
    // Test only: asked after each write statement succeeded; returning true makes the store act
    // as if the connection broke before the reply arrived (the commit's outcome unknown to it).
    std::function<bool()> lose_reply_after_write_for_testing;
  };

  struct Stats {
    int64_t connections_opened = 0;
    // Attempts beyond the first, after a lost connection.
    int64_t retries = 0;
  };

  // Connects, migrates to kSchemaVersion and keeps that connection in the pool. A database from
  // a newer build is FAILED_PRECONDITION rather than being touched.
  static absl::StatusOr<std::unique_ptr<PostgresTaskStore>> Open(Options options);
  ~PostgresTaskStore() override;

  PostgresTaskStore(const PostgresTaskStore&) = delete;
  PostgresTaskStore& operator=(const PostgresTaskStore&) = delete;

  absl::StatusOr<TaskRecord> InsertOrGet(const TaskRecord& record, bool* inserted) override;
  absl::StatusOr<TaskRecord> Get(absl::string_view task_id) override;
  absl::Status Update(const TaskRecord& record,
                      Durability durability = Durability::kSynced) override;
  absl::StatusOr<std::string> FindByUpstreamId(absl::string_view upstream_task_id) override;
  absl::StatusOr<std::vector<TaskRecord>> List(const ListQuery& query) override;
  absl::StatusOr<std::vector<TaskRecord>> ListUnfinished() override;
  absl::StatusOr<std::vector<TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<FinishedCursor>& after) override;
  absl::Status Delete(absl::string_view task_id) override;

  absl::StatusOr<std::optional<int64_t>> AcquireLease(absl::string_view name,
                                                      absl::string_view holder,
                                                      absl::Duration ttl) override;
  absl::Status RenewLease(absl::string_view name, absl::string_view holder, int64_t epoch,
                          absl::Duration ttl) override;
  absl::Status ReleaseLease(absl::string_view name, absl::string_view holder,
                            int64_t epoch) override;
  void SetWriterEpoch(int64_t epoch) override { writer_epoch_.store(epoch); }
  absl::StatusOr<std::vector<TaskRecord>> ClaimUnfinished(int64_t epoch, int limit) override;
  absl::Status RequestCancel(absl::string_view task_id) override;
  absl::StatusOr<std::vector<std::string>> ListCancelRequests(int64_t epoch) override;
  absl::Status StartListening(std::function<void(const TaskChange&)> on_change) override;
  void StopListening() override;

  // "user@host:port/dbname" of the server, for logs; never the password.
  const std::string& description() const { return description_; }
  Stats stats() const;

  class Connection;  // one PGconn and its session state (postgres_sql.h)
  class Listener;    // the LISTEN connection and its thread (postgres_replication.cc)

 private:
  explicit PostgresTaskStore(Options options);

  // A fresh connection with the session settings applied; UNAVAILABLE if it cannot be made.
  absl::StatusOr<std::unique_ptr<Connection>> Connect(absl::Duration statement_timeout);
  absl::Status Migrate();
  // An idle connection, or a new one while fewer than pool_size exist; waits otherwise.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire() ABSL_LOCKS_EXCLUDED(mu_);
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Back to the pool, or closed if it broke.
  void Release(std::unique_ptr<Connection> connection) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `attempt(connection, maybe_committed)` on a pooled connection, again on a fresh one
  // while the connection is lost (bounded). `maybe_committed` tells a retried write that an
  // earlier attempt may have committed.
  absl::Status Run(absl::string_view what,
                   const std::function<absl::Status(Connection&, bool maybe_committed)>& attempt);

  const Options options_;
  std::string description_;
  std::atomic<int64_t> connections_opened_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> writer_epoch_{0};
  std::unique_ptr<Listener> listener_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  // Idle, leased and being opened.
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_POSTGRES_TASK_STORE_H_
