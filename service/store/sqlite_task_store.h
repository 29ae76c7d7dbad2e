// SqliteTaskStore: TaskStore on one embedded SQLite file (WAL), the single-node default.
// The task proto is stored whole; the columns beside it exist only to index and filter.
#ifndef QWENIMAGE_SERVICE_STORE_SQLITE_TASK_STORE_H_
#define QWENIMAGE_SERVICE_STORE_SQLITE_TASK_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/task_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace qwenimage::store {

// Times are kept to the microsecond: create_time ordering, cursors and the created_* bounds all
// compare truncated Unix microseconds. Tenant, fingerprint, request_id and create_time are fixed
// at insert; Update replaces the task proto, its state, model, upstream_task_id and update_time.
//
// Durability, per write: the connection runs journal_mode = WAL, synchronous = NORMAL, so every
// commit survives a process crash. InsertOrGet and Update(kSynced) additionally switch the
// connection to synchronous = FULL around their transaction (ScopedSynchronous), so the WAL is
// fsynced before they return — and with it every earlier kRelaxed commit. Update(kRelaxed) and
// Delete commit at NORMAL and may be lost with the OS (not with the process) until the next
// synced write or checkpoint.
//
// upstream_task_id has its own column under a partial unique index (empty = no claim): a write
// that would give a second task the same upstream id is ALREADY_EXISTS and writes nothing.
class SqliteTaskStore : public TaskStore {
 public:
  // The schema version this build writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 4;

  // Opens or creates the database at `path` and migrates it to kSchemaVersion. A database from a
  // newer build is FAILED_PRECONDITION rather than being touched.
  static absl::StatusOr<std::unique_ptr<SqliteTaskStore>> Open(const std::string& path);
  ~SqliteTaskStore() override;

  SqliteTaskStore(const SqliteTaskStore&) = delete;
  SqliteTaskStore& operator=(const SqliteTaskStore&) = delete;

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

 private:
  explicit SqliteTaskStore(sqlite3* db) : db_(db) {}

  absl::Status Migrate() ABSL_LOCKS_EXCLUDED(mu_);
  // v3: fills the new upstream_task_id column from the task blobs, inside the migration's
  // transaction.
  absl::Status BackfillUpstreamIdsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns a cached prepared statement, reset and unbound; owned by the cache.
  absl::StatusOr<sqlite3_stmt*> Prepare(const std::string& sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<TaskRecord> GetLocked(absl::string_view task_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<TaskRecord> GetByRequestIdLocked(absl::string_view tenant,
                                                  absl::string_view request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps `stmt` to the end, collecting every row as (tenant, fingerprint, task).
  absl::StatusOr<std::vector<TaskRecord>> ReadRows(sqlite3_stmt* stmt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // One connection: SQLite serialises writers anyway, and reads are short index lookups.
  sqlite3* const db_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_SQLITE_TASK_STORE_H_
