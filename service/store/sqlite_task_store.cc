// SqliteTaskStore: schema migrations, statement cache and the TaskStore queries.
// Prompts live only inside the task blob, which never reaches an error message or a log.
#include "service/store/sqlite_task_store.h"

#include <sqlite3.h>

#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/store/sqlite_synchronous.h"

namespace qwenimage::store {
namespace {

static_assert(qwenimage::v1::TASK_STATE_SUCCEEDED == 4 && qwenimage::v1::TASK_STATE_FAILED == 5 &&
                  qwenimage::v1::TASK_STATE_CANCELLED == 6,
              "QWENIMAGE_UNFINISHED names the terminal states by number");
// Shared by the partial index and the query so that SQLite can match one to the other.
#define QWENIMAGE_UNFINISHED "state NOT IN (4, 5, 6)"
#define QWENIMAGE_FINISHED "state IN (4, 5, 6)"

// kMigrations[v] takes the schema from version v to v + 1. Append only; never edit a shipped step.
constexpr const char* kMigrations[] = {
    // v1
    "CREATE TABLE tasks ("
    "  id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL,"
    "  request_id TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  model TEXT NOT NULL,"
    "  create_time_us INTEGER NOT NULL,"
    "  update_time_us INTEGER NOT NULL,"
    "  task BLOB NOT NULL);"
    "CREATE UNIQUE INDEX tasks_by_request_id ON tasks (tenant, request_id)"
    "  WHERE request_id <> '';"
    "CREATE INDEX tasks_by_tenant_time ON tasks (tenant, create_time_us DESC, id DESC);"
    "CREATE INDEX tasks_unfinished ON tasks (create_time_us, id) WHERE " QWENIMAGE_UNFINISHED ";",
    // v2
    "CREATE INDEX tasks_by_update_time ON tasks (update_time_us);",
    // v3; existing rows are then filled in by BackfillUpstreamIdsLocked (see kUpstreamIdVersion).
    "ALTER TABLE tasks ADD COLUMN upstream_task_id TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX tasks_by_upstream_id ON tasks (upstream_task_id)"
    "  WHERE upstream_task_id <> '';",
    // v4: retention walks the finished tasks oldest first (ListFinishedBefore).
    "CREATE INDEX tasks_finished ON tasks (update_time_us, id) WHERE " QWENIMAGE_FINISHED ";",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == SqliteTaskStore::kSchemaVersion,
              "one migration step per schema version");

// The version whose step adds the upstream_task_id column; the migration backfills it after the
// step's SQL.
constexpr int kUpstreamIdVersion = 3;

constexpr char kColumns[] = "SELECT tenant, fingerprint, task FROM tasks ";

int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()));
}

// Binds parameters left to right and remembers the first failure, so call sites check once.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Binder& Text(absl::string_view v) {
    // A default string_view has a null data(), which SQLite would bind as NULL, not ''.
    return Check(sqlite3_bind_text(stmt_, ++index_, v.data() ? v.data() : "",
                                   static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Binder& Blob(absl::string_view v) {
    return Check(sqlite3_bind_blob(stmt_, ++index_, v.data() ? v.data() : "",
                                   static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Binder& Int(int64_t v) { return Check(sqlite3_bind_int64(stmt_, ++index_, v)); }
  bool ok() const { return rc_ == SQLITE_OK; }

 private:
  Binder& Check(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
    return *this;
  }
  sqlite3_stmt* stmt_;
  int index_ = 0;
  int rc_ = SQLITE_OK;
};

// Resets a cached statement when the call is done with it: an unfinished SELECT would otherwise
// keep its read transaction open and stall WAL checkpoints.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

absl::string_view ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  return p ? absl::string_view(p, sqlite3_column_bytes(stmt, col)) : absl::string_view();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteTaskStore>> SqliteTaskStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: mu_ already serialises every use of the connection.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::InternalError(
        absl::StrCat("open ", path, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteTaskStore> store(new SqliteTaskStore(db));
  {
    absl::MutexLock lock(&store->mu_);
    // Another process (an operator's sqlite3 shell, a second gateway during a rollout) may hold
    // the write lock briefly; wait for it rather than fail.
    sqlite3_busy_timeout(db, 5000);
    // WAL lets readers run beside the writer; NORMAL is durable across process crashes and only
    // risks the last commits on power loss, which a resumed task tolerates.
    for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"}) {
      if (absl::Status s = store->Exec(pragma); !s.ok()) return s;
    }
  }
  if (absl::Status s = store->Migrate(); !s.ok()) return s;
  return store;
}

SqliteTaskStore::~SqliteTaskStore() {
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status SqliteTaskStore::Migrate() {
  absl::MutexLock lock(&mu_);
  // IMMEDIATE takes the write lock up front, so two processes opening a fresh file do not both
  // run the same step.
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    absl::StatusOr<sqlite3_stmt*> stmt = Prepare("PRAGMA user_version");
    if (!stmt.ok()) return stmt.status();
    int version = 0;
    {
      ScopedReset reset(*stmt);
      if (sqlite3_step(*stmt) != SQLITE_ROW) return Error("read user_version");
      version = sqlite3_column_int(*stmt, 0);
    }
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("task database has schema version ", version, "; this build knows up to ",
                       kSchemaVersion, ". Refusing to open it with an older gateway"));
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      if (absl::Status s = Exec(kMigrations[v]); !s.ok()) return s;
      // A step whose data SQL cannot derive finishes in C++, still inside this transaction.
      if (v + 1 == kUpstreamIdVersion) {
        if (absl::Status s = BackfillUpstreamIdsLocked(); !s.ok()) return s;
      }
      // PRAGMA takes no bound parameters; v is an int, so formatting it in is safe.
      const std::string set_version = absl::StrCat("PRAGMA user_version = ", v + 1);
      if (absl::Status s = Exec(set_version.c_str()); !s.ok()) return s;
    }
    return Exec("COMMIT");
  }();
  if (!status.ok()) Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::Status SqliteTaskStore::BackfillUpstreamIdsLocked() {
  // Rows of any state: a finished task still holds its upstream id (a restart must not adopt
  // that upstream task for another). Oldest first, and UPDATE OR IGNORE against the unique index
  // that the step has already created: should two old rows claim one upstream id (possible
  // before v3 enforced it), the oldest keeps the claim and the younger keep theirs only inside
  // the blob, so a later Update of such a younger task carrying it is ALREADY_EXISTS. Nothing is
  // logged (the store has no logger, and the blob it would be tempted to print holds the
  // prompt). The pairs are collected before any UPDATE, so the scan never sees its own writes.
  std::vector<std::pair<std::string, std::string>> claims;  // (task id, upstream id)
  {
    absl::StatusOr<sqlite3_stmt*> stmt =
        Prepare("SELECT id, task FROM tasks ORDER BY create_time_us, id");
    if (!stmt.ok()) return stmt.status();
    ScopedReset reset(*stmt);
    for (;;) {
      const int rc = sqlite3_step(*stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error("backfill read");
      qwenimage::v1::Task task;
      if (!task.ParseFromArray(sqlite3_column_blob(*stmt, 1), sqlite3_column_bytes(*stmt, 1))) {
        return absl::InternalError("stored task does not parse as qwenimage.v1.Task");
      }
      if (task.upstream_task_id().empty()) continue;
      claims.emplace_back(std::string(ColumnText(*stmt, 0)), task.upstream_task_id());
    }
  }
  absl::StatusOr<sqlite3_stmt*> stmt =
      Prepare("UPDATE OR IGNORE tasks SET upstream_task_id = ? WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  for (const auto& [task_id, upstream_id] : claims) {
    ScopedReset reset(*stmt);
    if (!Binder(*stmt).Text(upstream_id).Text(task_id).ok()) return Error("bind");
    if (sqlite3_step(*stmt) != SQLITE_DONE) return Error("backfill update");
  }
  return absl::OkStatus();
}

absl::Status SqliteTaskStore::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error("exec");
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqliteTaskStore::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status SqliteTaskStore::Error(absl::string_view what) {
  const std::string message = absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db_));
  // Still locked after the busy timeout: transient, worth a retry by the caller.
  if (sqlite3_errcode(db_) == SQLITE_BUSY) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::vector<TaskRecord>> SqliteTaskStore::ReadRows(sqlite3_stmt* stmt) {
  std::vector<TaskRecord> rows;
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) return Error("step");
    TaskRecord& row = rows.emplace_back();
    row.tenant = std::string(ColumnText(stmt, 0));
    row.fingerprint = std::string(ColumnText(stmt, 1));
    const void* blob = sqlite3_column_blob(stmt, 2);
    if (!row.task.ParseFromArray(blob, sqlite3_column_bytes(stmt, 2))) {
      return absl::InternalError("stored task does not parse as qwenimage.v1.Task");
    }
  }
}

absl::StatusOr<TaskRecord> SqliteTaskStore::GetLocked(absl::string_view task_id) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(absl::StrCat(kColumns, "WHERE id = ?"));
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  if (!Binder(*stmt).Text(task_id).ok()) return Error("bind");
  absl::StatusOr<std::vector<TaskRecord>> rows = ReadRows(*stmt);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
  return std::move(rows->front());
}

absl::StatusOr<TaskRecord> SqliteTaskStore::GetByRequestIdLocked(absl::string_view tenant,
                                                                 absl::string_view request_id) {
  absl::StatusOr<sqlite3_stmt*> stmt =
      Prepare(absl::StrCat(kColumns, "WHERE tenant = ? AND request_id = ? AND request_id <> ''"));
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  if (!Binder(*stmt).Text(tenant).Text(request_id).ok()) return Error("bind");
  absl::StatusOr<std::vector<TaskRecord>> rows = ReadRows(*stmt);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError("no task with that request_id");
  return std::move(rows->front());
}

absl::StatusOr<TaskRecord> SqliteTaskStore::InsertOrGet(const TaskRecord& record, bool* inserted) {
  const qwenimage::v1::Task& task = record.task;
  if (task.id().empty()) return absl::InvalidArgumentError("task.id is required");
  if (!task.has_create_time()) return absl::InvalidArgumentError("task.create_time is required");
  std::string blob;
  if (!task.SerializeToString(&blob)) return absl::InternalError("cannot serialize task");
  const int64_t create_us = ToMicros(task.create_time());
  const int64_t update_us = task.has_update_time() ? ToMicros(task.update_time()) : create_us;

  absl::MutexLock lock(&mu_);
  // Always synced: the caller is about to tell the client that the task exists. Declared after
  // the lock and before BEGIN, so the pragma switches outside the transaction.
  ScopedSynchronous synced(db_, Durability::kSynced);
  if (!synced.status().ok()) return synced.status();
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  bool was_inserted = false;
  absl::StatusOr<TaskRecord> result =
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::StatusOr<TaskRecord> {
    // The conflict target names the partial unique index, so only an idempotent retry is
    // absorbed; a clash on the primary key still fails.
    absl::StatusOr<sqlite3_stmt*> stmt = Prepare(
        "INSERT INTO tasks (id, tenant, request_id, fingerprint, state, model, create_time_us,"
        " update_time_us, upstream_task_id, task) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (tenant, request_id) WHERE request_id <> '' DO NOTHING");
    if (!stmt.ok()) return stmt.status();
    int rc = SQLITE_OK;
    int extended_rc = SQLITE_OK;
    int changes = 0;
    absl::Status step_error;
    {
      ScopedReset reset(*stmt);
      if (!Binder(*stmt)
               .Text(task.id())
               .Text(record.tenant)
               .Text(task.request_id())
               .Text(record.fingerprint)
               .Int(task.state())
               .Text(task.spec().model())
               .Int(create_us)
               .Int(update_us)
               .Text(task.upstream_task_id())
               .Blob(blob)
               .ok()) {
        return Error("bind");
      }
      rc = sqlite3_step(*stmt);
      // Read before the reset, which may replace the connection's error state.
      extended_rc = sqlite3_extended_errcode(db_);
      changes = sqlite3_changes(db_);
      if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT) step_error = Error("insert");
    }
    if (!step_error.ok()) return step_error;
    if (rc == SQLITE_DONE && changes == 1) {
      was_inserted = true;
      return record;
    }
    // DONE with no change: the request_id is taken. CONSTRAINT: the id (PRIMARYKEY) or the
    // upstream id (UNIQUE) is taken, which is still a retry if the request_id matches too.
    if (!task.request_id().empty()) {
      absl::StatusOr<TaskRecord> existing = GetByRequestIdLocked(record.tenant, task.request_id());
      if (existing.ok() || !absl::IsNotFound(existing.status())) return existing;
    }
    if (rc == SQLITE_CONSTRAINT && extended_rc == SQLITE_CONSTRAINT_UNIQUE) {
      return absl::AlreadyExistsError(
          absl::StrCat("upstream task ", task.upstream_task_id(), " is held by another task"));
    }
    return absl::AlreadyExistsError(absl::StrCat("task ", task.id(), " already exists"));
  }();
  absl::Status end = result.ok() ? Exec("COMMIT") : absl::OkStatus();
  if (!result.ok() || !end.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return result.ok() ? end : result.status();
  }
  if (inserted != nullptr) *inserted = was_inserted;
  return result;
}

absl::StatusOr<TaskRecord> SqliteTaskStore::Get(absl::string_view task_id) {
  absl::MutexLock lock(&mu_);
  return GetLocked(task_id);
}

absl::Status SqliteTaskStore::Update(const TaskRecord& record, Durability durability) {
  const qwenimage::v1::Task& task = record.task;
  std::string blob;
  if (!task.SerializeToString(&blob)) return absl::InternalError("cannot serialize task");
  const int64_t update_us =
      ToMicros(task.has_update_time() ? task.update_time() : task.create_time());
  absl::MutexLock lock(&mu_);
  // One autocommit statement: it commits when the step returns, inside this scope, and the
  // scope (declared before the statement's reset) lowers the pragma again after it.
  ScopedSynchronous synced(db_, durability);
  if (!synced.status().ok()) return synced.status();
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(
      "UPDATE tasks SET state = ?, model = ?, update_time_us = ?, upstream_task_id = ?, task = ?"
      " WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  if (!Binder(*stmt)
           .Int(task.state())
           .Text(task.spec().model())
           .Int(update_us)
           .Text(task.upstream_task_id())
           .Blob(blob)
           .Text(task.id())
           .ok()) {
    return Error("bind");
  }
  if (sqlite3_step(*stmt) != SQLITE_DONE) {
    // The only UNIQUE index an UPDATE can break is tasks_by_upstream_id (the id is the key it
    // looks up by, and request_id is not written). The statement rolled back: nothing written.
    if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
      return absl::AlreadyExistsError(absl::StrCat("upstream task ", task.upstream_task_id(),
                                                   " is already held by a task other than ",
                                                   task.id()));
    }
    return Error("update");
  }
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("task ", task.id(), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqliteTaskStore::FindByUpstreamId(absl::string_view upstream_task_id) {
  if (upstream_task_id.empty()) return absl::NotFoundError("an empty upstream id is no claim");
  absl::MutexLock lock(&mu_);
  // The redundant `<> ''` lets SQLite prove the partial index tasks_by_upstream_id applies.
  absl::StatusOr<sqlite3_stmt*> stmt =
      Prepare("SELECT id FROM tasks WHERE upstream_task_id = ? AND upstream_task_id <> ''");
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  if (!Binder(*stmt).Text(upstream_task_id).ok()) return Error("bind");
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) return std::string(ColumnText(*stmt, 0));
  if (rc != SQLITE_DONE) return Error("step");
  return absl::NotFoundError(absl::StrCat("no task holds upstream task ", upstream_task_id));
}

absl::StatusOr<std::vector<TaskRecord>> SqliteTaskStore::List(const ListQuery& query) {
  if (query.limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  // Deduplicated so that the statement cache holds a bounded number of shapes.
  const std::set<int> states(query.states.begin(), query.states.end());
  std::string sql = absl::StrCat(kColumns, "WHERE tenant = ?");
  if (!states.empty()) {
    sql += " AND state IN (?";
    for (size_t i = 1; i < states.size(); ++i) sql += ", ?";
    sql += ")";
  }
  if (!query.model.empty()) sql += " AND model = ?";
  if (query.created_at_or_after) sql += " AND create_time_us >= ?";
  if (query.created_before) sql += " AND create_time_us < ?";
  if (query.after) sql += " AND (create_time_us, id) < (?, ?)";
  sql += " ORDER BY create_time_us DESC, id DESC LIMIT ?";

  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  Binder bind(*stmt);
  bind.Text(query.tenant);
  for (int state : states) bind.Int(state);
  if (!query.model.empty()) bind.Text(query.model);
  if (query.created_at_or_after) bind.Int(absl::ToUnixMicros(*query.created_at_or_after));
  if (query.created_before) bind.Int(absl::ToUnixMicros(*query.created_before));
  if (query.after) bind.Int(absl::ToUnixMicros(query.after->create_time)).Text(query.after->id);
  bind.Int(query.limit);
  if (!bind.ok()) return Error("bind");
  return ReadRows(*stmt);
}

absl::StatusOr<std::vector<TaskRecord>> SqliteTaskStore::ListUnfinished() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt =
      Prepare(absl::StrCat(kColumns, "WHERE " QWENIMAGE_UNFINISHED " ORDER BY create_time_us, id"));
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  return ReadRows(*stmt);
}

absl::StatusOr<std::vector<TaskRecord>> SqliteTaskStore::ListFinishedBefore(
    absl::Time cutoff, int limit, const std::optional<FinishedCursor>& after) {
  if (limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  std::string sql =
      absl::StrCat(kColumns, "WHERE " QWENIMAGE_FINISHED " AND update_time_us < ?");
  if (after) sql += " AND (update_time_us, id) > (?, ?)";
  sql += " ORDER BY update_time_us, id LIMIT ?";
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  Binder bind(*stmt);
  bind.Int(absl::ToUnixMicros(cutoff));
  if (after) bind.Int(absl::ToUnixMicros(after->update_time)).Text(after->id);
  bind.Int(limit);
  if (!bind.ok()) return Error("bind");
  return ReadRows(*stmt);
}

absl::Status SqliteTaskStore::Delete(absl::string_view task_id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare("DELETE FROM tasks WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  ScopedReset reset(*stmt);
  if (!Binder(*stmt).Text(task_id).ok()) return Error("bind");
  if (sqlite3_step(*stmt) != SQLITE_DONE) return Error("delete");
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
  }
  return absl::OkStatus();
}

#undef QWENIMAGE_UNFINISHED
#undef QWENIMAGE_FINISHED

}  // namespace qwenimage::store
