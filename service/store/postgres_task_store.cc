// PostgresTaskStore: connection pool, retry on lost connections, migrations and the TaskStore
// queries. Parameters and results travel in binary form; prompts live only inside the task
// bytea, which never reaches an error message or a log, and neither does the DSN.
#include "service/store/postgres_task_store.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/store/postgres_sql.h"
#include "service/store/replica_store.h"

namespace qwenimage::store {

namespace {

using pg::Connection;
using pg::Exec;
using pg::ExecScript;
using pg::Params;
using pg::Result;
using pg::BinaryInt;
using pg::RowsAffected;
using pg::SelectAll;
using pg::SelectOne;
using pg::Trimmed;
using pg::Value;

static_assert(qwenimage::v1::TASK_STATE_SUCCEEDED == 4 && qwenimage::v1::TASK_STATE_FAILED == 5 &&
                  qwenimage::v1::TASK_STATE_CANCELLED == 6,
              "QWENIMAGE_PG_UNFINISHED names the terminal states by number");
#define QWENIMAGE_UNFINISHED QWENIMAGE_PG_UNFINISHED
#define QWENIMAGE_FINISHED QWENIMAGE_PG_FINISHED

// kMigrations[v] takes the schema from version v to v + 1. Append only; never edit a shipped
// step. Each runs in one transaction together with its schema_version row.
constexpr const char* kMigrations[] = {
    // v1: the tasks table as SQLite has it at its v3. id is compared bytewise (COLLATE "C") so
    // that the listing order and cursors do not depend on the database's locale.
    "CREATE TABLE tasks ("
    "  id text COLLATE \"C\" PRIMARY KEY,"
    "  tenant text NOT NULL,"
    "  request_id text NOT NULL,"
    "  fingerprint text NOT NULL,"
    "  state integer NOT NULL,"
    "  model text NOT NULL,"
    "  create_time_us bigint NOT NULL,"
    "  update_time_us bigint NOT NULL,"
    "  upstream_task_id text NOT NULL DEFAULT '',"
    "  task bytea NOT NULL);"
    "CREATE UNIQUE INDEX tasks_by_request_id ON tasks (tenant, request_id)"
    "  WHERE request_id <> '';"
    "CREATE UNIQUE INDEX tasks_by_upstream_id ON tasks (upstream_task_id)"
    "  WHERE upstream_task_id <> '';"
    "CREATE INDEX tasks_by_tenant_time ON tasks (tenant, create_time_us DESC, id DESC);"
    "CREATE INDEX tasks_unfinished ON tasks (create_time_us, id) WHERE " QWENIMAGE_UNFINISHED
    ";"
    "CREATE INDEX tasks_by_update_time ON tasks (update_time_us);",
    // v2: retention walks the finished tasks oldest first (ListFinishedBefore).
    "CREATE INDEX tasks_finished ON tasks (update_time_us, id) WHERE " QWENIMAGE_FINISHED,
    // v3: several replicas (replica_store.h). A task's owner_epoch is the lease epoch that last
    // wrote or claimed it (0: unclaimed); an UPDATE lands only while no newer epoch owns the row.
    // A cancel request from another replica waits in cancel_requested for the owner. Every
    // insert, delete, and update that changes the task or its cancel request notifies
    // "qwenimage_tasks" with "<owner_epoch> <cancel_requested 0|1> <id>" (delivered at commit).
    "ALTER TABLE tasks ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE tasks ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;"
    "CREATE INDEX tasks_cancel_requested ON tasks (owner_epoch) WHERE cancel_requested AND "
    QWENIMAGE_UNFINISHED ";"
    "CREATE TABLE leases ("
    "  name text PRIMARY KEY,"
    "  holder text NOT NULL,"
    "  epoch bigint NOT NULL,"
    "  expires_at timestamptz NOT NULL);"
    "CREATE FUNCTION qwenimage_notify_task() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  PERFORM pg_notify('qwenimage_tasks',"
    "    NEW.owner_epoch || ' ' || NEW.cancel_requested::int || ' ' || NEW.id);"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER tasks_notify_insert AFTER INSERT ON tasks"
    "  FOR EACH ROW EXECUTE FUNCTION qwenimage_notify_task();"
    "CREATE TRIGGER tasks_notify_update AFTER UPDATE ON tasks FOR EACH ROW"
    "  WHEN (OLD.task IS DISTINCT FROM NEW.task"
    "        OR OLD.cancel_requested IS DISTINCT FROM NEW.cancel_requested)"
    "  EXECUTE FUNCTION qwenimage_notify_task();"
    "CREATE FUNCTION qwenimage_notify_task_deleted() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  PERFORM pg_notify('qwenimage_tasks',"
    "    OLD.owner_epoch || ' ' || OLD.cancel_requested::int || ' ' || OLD.id);"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER tasks_notify_delete AFTER DELETE ON tasks"
    "  FOR EACH ROW EXECUTE FUNCTION qwenimage_notify_task_deleted()",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == PostgresTaskStore::kSchemaVersion,
              "one migration step per schema version");

using pg::kColumns;
// The conflict target names the partial unique index, so only an idempotent retry is absorbed; a
// clash on the primary key or the upstream id still fails (23505).
constexpr char kInsert[] =
    "INSERT INTO tasks (id, tenant, request_id, fingerprint, state, model, create_time_us,"
    " update_time_us, upstream_task_id, task) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (tenant, request_id) WHERE request_id <> '' DO NOTHING";
constexpr char kUpstreamIdIndex[] = "tasks_by_upstream_id";

// Whether `stored` is exactly the row `record` (serialized as `blob`) would have written: after
// an attempt whose commit is unknown, that row is this call's own insert.
bool IsOwnRow(const TaskRecord& stored, const TaskRecord& record, const std::string& blob) {
  return stored.task.id() == record.task.id() && stored.tenant == record.tenant &&
         stored.fingerprint == record.fingerprint && stored.task.SerializeAsString() == blob;
}

absl::Status SetDurability(Connection& c, Durability durability) {
  const bool relaxed = durability == Durability::kRelaxed;
  if (c.relaxed == relaxed) return absl::OkStatus();
  absl::StatusOr<Result> r =
      Exec(c, relaxed ? "SET synchronous_commit = off" : "SET synchronous_commit = on", Params(),
           "set synchronous_commit");
  if (!r.ok()) return r.status();
  c.relaxed = relaxed;
  return absl::OkStatus();
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresTaskStore>> PostgresTaskStore::Open(Options options) {
  if (options.pool_size < 1) return absl::InvalidArgumentError("pool_size must be at least 1");
  std::unique_ptr<PostgresTaskStore> store(new PostgresTaskStore(std::move(options)));
  if (absl::Status s = store->Migrate(); !s.ok()) return s;
  // One pooled connection now, so that a wrong setting fails the start rather than a first call.
  absl::StatusOr<std::unique_ptr<Connection>> c = store->Acquire();
  if (!c.ok()) return c.status();
  store->Release(*std::move(c));
  return store;
}

PostgresTaskStore::PostgresTaskStore(Options options) : options_(std::move(options)) {}

PostgresTaskStore::~PostgresTaskStore() {
  StopListening();
  std::vector<std::unique_ptr<Connection>> idle;
  {
    absl::MutexLock lock(&mu_);
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size());
  }
}

PostgresTaskStore::Stats PostgresTaskStore::stats() const {
  return Stats{connections_opened_.load(), retries_.load()};
}

absl::StatusOr<std::unique_ptr<Connection>> PostgresTaskStore::Connect(
    absl::Duration statement_timeout) {
  // libpq counts whole seconds and treats less than 2 as 2.
  const std::string connect_timeout =
      absl::StrCat(std::max<int64_t>(2, absl::ToInt64Seconds(options_.connect_timeout)));
  // Processed in order: the DSN (expanded from dbname) comes last, so its settings win.
  const char* keywords[] = {
      "connect_timeout",     "fallback_application_name", "keepalives", "keepalives_idle",
      "keepalives_interval", "keepalives_count",          "dbname",     nullptr};
  const char* values[] = {connect_timeout.c_str(),
                          "qwen-image-gateway",
                          "1",
                          "30",
                          "10",
                          "3",
                          options_.dsn.c_str(),
                          nullptr};
  auto c = std::make_unique<Connection>(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (c->get() == nullptr) return absl::ResourceExhaustedError("postgres connect: out of memory");
  if (PQstatus(c->get()) != CONNECTION_OK) {
    // libpq's message names the host, port and user, never the password.
    return absl::UnavailableError(
        absl::StrCat("postgres connect: ", Trimmed(PQerrorMessage(c->get()))));
  }
  connections_opened_.fetch_add(1);
  // NOTICEs ("relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(c->get(), IgnoreNotice, nullptr);
  const int64_t timeout_ms =
      statement_timeout > absl::ZeroDuration()
          ? std::max<int64_t>(1, absl::ToInt64Milliseconds(statement_timeout))
          : 0;
  // An int, so formatting it into the statement is safe (SET takes no bound parameters). The
  // session starts synced whatever the server's default is, as Connection::relaxed assumes.
  if (absl::Status s = ExecScript(*c,
                                  absl::StrCat("SET statement_timeout = ", timeout_ms,
                                               "; SET synchronous_commit = on"),
                                  "session settings");
      !s.ok()) {
    return s;
  }
  return c;
}

absl::Status PostgresTaskStore::Migrate() {
  // A connection of its own, outside the pool, with a timeout long enough to wait for another
  // replica's migration; closing it releases the lock whatever happens.
  absl::StatusOr<std::unique_ptr<Connection>> connected = Connect(options_.migration_timeout);
  if (!connected.ok()) return connected.status();
  Connection& c = **connected;
  description_ =
      absl::StrCat(PQuser(c.get()), "@", PQhost(c.get()), ":", PQport(c.get()), "/", PQdb(c.get()));
  if (absl::StatusOr<Result> r = Exec(c, "SELECT pg_advisory_lock($1)",
                                      Params().Int8(kMigrationLockKey), "migration lock");
      !r.ok()) {
    return r.status();
  }
  if (absl::Status s = ExecScript(c,
                                  "CREATE TABLE IF NOT EXISTS schema_version ("
                                  "  version integer PRIMARY KEY,"
                                  "  applied_at timestamptz NOT NULL DEFAULT now())",
                                  "create schema_version");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Result> r =
      Exec(c, "SELECT coalesce(max(version), 0) FROM schema_version", Params(), "schema version");
  if (!r.ok()) return r.status();
  const int64_t version = BinaryInt(r->get(), 0, 0);
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("task database has schema version ", version, "; this build knows up to ",
                     kSchemaVersion, ". Refusing to open it with an older gateway"));
  }
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    // The step and its version row commit together; v is an int, so formatting it in is safe.
    if (absl::Status s = ExecScript(
            c,
            absl::StrCat("BEGIN; ", kMigrations[v],
                         "; INSERT INTO schema_version (version) VALUES (", v + 1, "); COMMIT"),
            absl::StrCat("migration to v", v + 1));
        !s.ok()) {
      return s;
    }
  }
  Exec(c, "SELECT pg_advisory_unlock($1)", Params().Int8(kMigrationLockKey), "migration unlock")
      .IgnoreError();
  return absl::OkStatus();
}

bool PostgresTaskStore::CanAcquire() const { return !idle_.empty() || open_ < options_.pool_size; }

absl::StatusOr<std::unique_ptr<Connection>> PostgresTaskStore::Acquire() {
  std::unique_ptr<Connection> c;
  {
    absl::MutexLock lock(&mu_, absl::Condition(this, &PostgresTaskStore::CanAcquire));
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // the slot this call is about to fill
    }
  }
  if (c != nullptr && !c->broken()) return c;
  c.reset();  // an idle connection the server closed: replace it in its slot
  absl::StatusOr<std::unique_ptr<Connection>> fresh = Connect(options_.statement_timeout);
  if (!fresh.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return fresh;
}

void PostgresTaskStore::Release(std::unique_ptr<Connection> c) {
  // A connection left inside a transaction (never expected: every statement autocommits) is not
  // reused either.
  if (c->broken() || PQtransactionStatus(c->get()) != PQTRANS_IDLE) {
    c.reset();
    absl::MutexLock lock(&mu_);
    --open_;
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(c));
}

absl::Status PostgresTaskStore::Run(
    absl::string_view what,
    const std::function<absl::Status(Connection&, bool maybe_committed)>& attempt) {
  const int attempts = std::max(1, options_.max_attempts);
  absl::Duration backoff = options_.retry_backoff;
  bool maybe_committed = false;
  absl::Status last;
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) {
      retries_.fetch_add(1);
      absl::SleepFor(backoff);
      backoff *= 2;
    }
    absl::StatusOr<std::unique_ptr<Connection>> c = Acquire();
    if (!c.ok()) {
      last = c.status();  // nothing was sent
      continue;
    }
    absl::Status status = attempt(**c, maybe_committed);
    const bool lost = (*c)->broken();
    Release(*std::move(c));
    if (!lost) return status;
    // The statement may have reached the server and committed before the connection went.
    maybe_committed = true;
    last = status;
  }
  return absl::UnavailableError(absl::StrCat("postgres ", what, ": no connection after ", attempts,
                                             " attempts; last: ", last.message()));
}

absl::StatusOr<TaskRecord> PostgresTaskStore::InsertOrGet(const TaskRecord& record,
                                                          bool* inserted) {
  const qwenimage::v1::Task& task = record.task;
  if (task.id().empty()) return absl::InvalidArgumentError("task.id is required");
  if (!task.has_create_time()) return absl::InvalidArgumentError("task.create_time is required");
  std::string blob;
  if (!task.SerializeToString(&blob)) return absl::InternalError("cannot serialize task");
  const int64_t create_us = pg::ToMicros(task.create_time());
  const int64_t update_us = task.has_update_time() ? pg::ToMicros(task.update_time()) : create_us;
  Params insert;
  insert.Text(task.id())
      .Text(record.tenant)
      .Text(task.request_id())
      .Text(record.fingerprint)
      .Int4(task.state())
      .Text(task.spec().model())
      .Int8(create_us)
      .Int8(update_us)
      .Text(task.upstream_task_id())
      .Bytes(blob);
  const std::string by_request_id =
      absl::StrCat(kColumns, "WHERE tenant = $1 AND request_id = $2 AND request_id <> ''");
  const std::string by_id = absl::StrCat(kColumns, "WHERE id = $1");

  TaskRecord result;
  bool was_inserted = false;
  absl::Status status = Run("insert", [&](Connection& c, bool maybe_committed) -> absl::Status {
    // Always synced: the caller is about to tell the client that the task exists.
    if (absl::Status s = SetDurability(c, Durability::kSynced); !s.ok()) return s;
    // The task holding the request_id may be deleted between the insert and the read; then the
    // insert is tried again (a few times: each round needs a delete racing it).
    for (int round = 0; round < 3; ++round) {
      std::string constraint;
      absl::StatusOr<Result> r = Exec(c, kInsert, insert, "insert", &constraint);
      if (!r.ok() && !absl::IsAlreadyExists(r.status())) return r.status();
      if (r.ok() && options_.lose_reply_after_write_for_testing &&
          options_.lose_reply_after_write_for_testing()) {
        c.MarkBroken();
        return absl::UnavailableError("postgres insert: reply lost (test hook)");
      }
      if (r.ok() && RowsAffected(r->get()) == 1) {
        was_inserted = true;
        result = record;
        return absl::OkStatus();
      }
      // No row: the request_id is taken. 23505: the id or the upstream id is taken, which is
      // still a retry if the request_id matches too.
      if (!task.request_id().empty()) {
        absl::StatusOr<std::optional<TaskRecord>> existing =
            SelectOne(c, by_request_id, Params().Text(record.tenant).Text(task.request_id()));
        if (!existing.ok()) return existing.status();
        if (existing->has_value()) {
          was_inserted = maybe_committed && IsOwnRow(**existing, record, blob);
          result = **std::move(existing);
          return absl::OkStatus();
        }
        if (r.ok()) continue;
      }
      if (maybe_committed) {
        absl::StatusOr<std::optional<TaskRecord>> own =
            SelectOne(c, by_id, Params().Text(task.id()));
        if (!own.ok()) return own.status();
        if (own->has_value() && IsOwnRow(**own, record, blob)) {
          was_inserted = true;
          result = record;
          return absl::OkStatus();
        }
      }
      if (constraint == kUpstreamIdIndex) {
        return absl::AlreadyExistsError(
            absl::StrCat("upstream task ", task.upstream_task_id(), " is held by another task"));
      }
      return absl::AlreadyExistsError(absl::StrCat("task ", task.id(), " already exists"));
    }
    return absl::AbortedError(
        "postgres insert: the task holding this request_id was deleted during the insert, "
        "repeatedly");
  });
  if (!status.ok()) return status;
  if (inserted != nullptr) *inserted = was_inserted;
  return result;
}

absl::StatusOr<TaskRecord> PostgresTaskStore::Get(absl::string_view task_id) {
  const std::string sql = absl::StrCat(kColumns, "WHERE id = $1");
  std::optional<TaskRecord> found;
  absl::Status status = Run("get", [&](Connection& c, bool) -> absl::Status {
    absl::StatusOr<std::optional<TaskRecord>> row = SelectOne(c, sql, Params().Text(task_id));
    if (!row.ok()) return row.status();
    found = *std::move(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!found.has_value()) return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
  return *std::move(found);
}

absl::Status PostgresTaskStore::Update(const TaskRecord& record, Durability durability) {
  const qwenimage::v1::Task& task = record.task;
  std::string blob;
  if (!task.SerializeToString(&blob)) return absl::InternalError("cannot serialize task");
  const int64_t update_us =
      pg::ToMicros(task.has_update_time() ? task.update_time() : task.create_time());
  const int64_t epoch = writer_epoch_.load();
  Params params;
  params.Int4(task.state())
      .Text(task.spec().model())
      .Int8(update_us)
      .Text(task.upstream_task_id())
      .Bytes(blob)
      .Text(task.id())
      .Int8(epoch);
  // The same full row every time: running it again after an unknown commit writes nothing new
  // (and the row is this epoch's by then, so the fence lets it through).
  return Run("update", [&](Connection& c, bool) -> absl::Status {
    if (absl::Status s = SetDurability(c, durability); !s.ok()) return s;
    absl::StatusOr<Result> r =
        Exec(c,
             "UPDATE tasks SET state = $1, model = $2, update_time_us = $3, upstream_task_id = $4,"
             " task = $5, owner_epoch = $7 WHERE id = $6 AND owner_epoch <= $7",
             params, "update");
    if (!r.ok()) {
      // The only unique index an UPDATE can break is tasks_by_upstream_id (the id is the key it
      // looks up by, and request_id is not written). The statement rolled back.
      if (absl::IsAlreadyExists(r.status())) {
        return absl::AlreadyExistsError(absl::StrCat("upstream task ", task.upstream_task_id(),
                                                     " is already held by a task other than ",
                                                     task.id()));
      }
      return r.status();
    }
    if (options_.lose_reply_after_write_for_testing &&
        options_.lose_reply_after_write_for_testing()) {
      c.MarkBroken();
      return absl::UnavailableError("postgres update: reply lost (test hook)");
    }
    if (RowsAffected(r->get()) == 1) return absl::OkStatus();
    absl::StatusOr<Result> owner = Exec(c, "SELECT owner_epoch FROM tasks WHERE id = $1",
                                        Params().Text(task.id()), "update owner");
    if (!owner.ok()) return owner.status();
    if (PQntuples(owner->get()) == 0) {
      return absl::NotFoundError(absl::StrCat("task ", task.id(), " not found"));
    }
    return FencedError(absl::StrCat("task ", task.id(), " is owned by lease epoch ",
                                    BinaryInt(owner->get(), 0, 0), "; this replica writes as ",
                                    epoch, " (its lease was lost)"));
  });
}

absl::StatusOr<std::string> PostgresTaskStore::FindByUpstreamId(
    absl::string_view upstream_task_id) {
  if (upstream_task_id.empty()) return absl::NotFoundError("an empty upstream id is no claim");
  std::optional<std::string> id;
  absl::Status status = Run("find by upstream id", [&](Connection& c, bool) -> absl::Status {
    // The redundant `<> ''` lets the planner prove the partial index tasks_by_upstream_id applies.
    absl::StatusOr<Result> r =
        Exec(c, "SELECT id FROM tasks WHERE upstream_task_id = $1 AND upstream_task_id <> ''",
             Params().Text(upstream_task_id), "find by upstream id");
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) > 0) id = std::string(Value(r->get(), 0, 0));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!id.has_value()) {
    return absl::NotFoundError(absl::StrCat("no task holds upstream task ", upstream_task_id));
  }
  return *std::move(id);
}

absl::StatusOr<std::vector<TaskRecord>> PostgresTaskStore::List(const ListQuery& query) {
  if (query.limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  const std::set<int> states(query.states.begin(), query.states.end());
  Params params;
  int n = 1;
  std::string sql = absl::StrCat(kColumns, "WHERE tenant = $1");
  params.Text(query.tenant);
  if (!states.empty()) {
    absl::StrAppend(&sql, " AND state = ANY($", ++n, ")");
    params.Int4Array(states);
  }
  if (!query.model.empty()) {
    absl::StrAppend(&sql, " AND model = $", ++n);
    params.Text(query.model);
  }
  if (query.created_at_or_after) {
    absl::StrAppend(&sql, " AND create_time_us >= $", ++n);
    params.Int8(absl::ToUnixMicros(*query.created_at_or_after));
  }
  if (query.created_before) {
    absl::StrAppend(&sql, " AND create_time_us < $", ++n);
    params.Int8(absl::ToUnixMicros(*query.created_before));
  }
  if (query.after) {
    absl::StrAppend(&sql, " AND (create_time_us, id) < ($", n + 1, ", $", n + 2, ")");
    n += 2;
    params.Int8(absl::ToUnixMicros(query.after->create_time)).Text(query.after->id);
  }
  absl::StrAppend(&sql, " ORDER BY create_time_us DESC, id DESC LIMIT $", ++n);
  params.Int8(query.limit);

  std::vector<TaskRecord> rows;
  if (absl::Status s = Run("list", SelectAll(sql, params, "list", &rows)); !s.ok()) return s;
  return rows;
}

absl::StatusOr<std::vector<TaskRecord>> PostgresTaskStore::ListUnfinished() {
  const std::string sql =
      absl::StrCat(kColumns, "WHERE " QWENIMAGE_UNFINISHED " ORDER BY create_time_us, id");
  const Params none;
  std::vector<TaskRecord> rows;
  absl::Status status = Run("list unfinished", SelectAll(sql, none, "list unfinished", &rows));
  if (!status.ok()) return status;
  return rows;
}

absl::StatusOr<std::vector<TaskRecord>> PostgresTaskStore::ListFinishedBefore(
    absl::Time cutoff, int limit, const std::optional<FinishedCursor>& after) {
  if (limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  Params params;
  std::string sql =
      absl::StrCat(kColumns, "WHERE " QWENIMAGE_FINISHED " AND update_time_us < $1");
  params.Int8(absl::ToUnixMicros(cutoff));
  if (after) {
    sql += " AND (update_time_us, id) > ($2, $3) ORDER BY update_time_us, id LIMIT $4";
    params.Int8(absl::ToUnixMicros(after->update_time)).Text(after->id);
  } else {
    sql += " ORDER BY update_time_us, id LIMIT $2";
  }
  params.Int8(limit);
  std::vector<TaskRecord> rows;
  absl::Status status = Run("list finished", SelectAll(sql, params, "list finished", &rows));
  if (!status.ok()) return status;
  return rows;
}

absl::Status PostgresTaskStore::Delete(absl::string_view task_id) {
  return Run("delete", [&](Connection& c, bool maybe_committed) -> absl::Status {
    absl::StatusOr<Result> r =
        Exec(c, "DELETE FROM tasks WHERE id = $1", Params().Text(task_id), "delete");
    if (!r.ok()) return r.status();
    if (options_.lose_reply_after_write_for_testing &&
        options_.lose_reply_after_write_for_testing()) {
      c.MarkBroken();
      return absl::UnavailableError("postgres delete: reply lost (test hook)");
    }
    // Gone after an attempt that may have committed: that attempt deleted it.
    if (RowsAffected(r->get()) == 0 && !maybe_committed) {
      return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
    }
    return absl::OkStatus();
  });
}

#undef QWENIMAGE_UNFINISHED
#undef QWENIMAGE_FINISHED

}  // namespace qwenimage::store
