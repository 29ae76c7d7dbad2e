// Internal to the PostgreSQL store: one libpq connection, statement parameters in binary form,
// the classification of failed statements, and the readers of task rows. Shared by the
// TaskStore queries (postgres_task_store.cc), the replica queries (postgres_replication.cc) and
// the change listener. Not for other layers.
#ifndef QWENIMAGE_SERVICE_STORE_POSTGRES_SQL_H_
#define QWENIMAGE_SERVICE_STORE_POSTGRES_SQL_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <atomic>
#include <thread>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "service/store/postgres_task_store.h"
#include "service/store/replica_store.h"
#include "service/store/task_store.h"

namespace qwenimage::store {

// One server connection, leased to one call at a time.
class PostgresTaskStore::Connection {
 public:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* get() const { return conn_; }
  // Lost (or made unusable on purpose): never returned to the pool.
  bool broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }
  void MarkBroken() { broken_ = true; }
  // The session's synchronous_commit: off while the last write was kRelaxed.
  bool relaxed = false;

 private:
  PGconn* const conn_;
  bool broken_ = false;
};

// The LISTEN connection and the thread that delivers its notifications
// (postgres_replication.cc).
class PostgresTaskStore::Listener {
 public:
  // `connection` already LISTENs. Starts the thread.
  Listener(PostgresTaskStore& store, std::unique_ptr<Connection> connection,
           std::function<void(const TaskChange&)> on_change);
  // Stops the thread (waking it from its wait) and joins it.
  ~Listener();

 private:
  void Run(std::unique_ptr<Connection> connection);
  // Delivers what arrived on `c`; false once the connection is lost or a stop is asked.
  bool Drain(Connection& c);
  // Waits up to `timeout` for a stop; true if one was asked.
  bool WaitForStop(absl::Duration timeout);

  PostgresTaskStore& store_;
  const std::function<void(const TaskChange&)> on_change_;
  const int wake_fd_;  // an eventfd written to stop the thread
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

namespace pg {

using Connection = PostgresTaskStore::Connection;

// Shared by the partial indexes and the queries so that the planner can match one to the other.
#define QWENIMAGE_PG_UNFINISHED "state NOT IN (4, 5, 6)"
#define QWENIMAGE_PG_FINISHED "state IN (4, 5, 6)"

// The columns ReadRecords reads, in its order.
inline constexpr char kColumns[] = "SELECT tenant, fingerprint, task, cancel_requested FROM tasks ";
inline constexpr char kReturningColumns[] = " RETURNING tenant, fingerprint, task, cancel_requested";

int64_t ToMicros(const google::protobuf::Timestamp& ts);

// Statement parameters, left to right; binary except where noted.
class Params {
 public:
  Params& Text(absl::string_view v);
  Params& Bytes(absl::string_view v);
  Params& Int4(int32_t v);
  Params& Int8(int64_t v);
  // An int4[] as its text literal ("{1,2}"), the simplest array encoding libpq accepts.
  Params& Int4Array(const std::set<int>& v);

  int size() const { return static_cast<int>(values_.size()); }
  const std::vector<std::string>& values() const { return values_; }
  const std::vector<Oid>& types() const { return types_; }
  const std::vector<int>& formats() const { return formats_; }

 private:
  Params& Add(std::string value, Oid type, int format);
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's message without the trailing newline ("" for nullptr).
std::string Trimmed(const char* message);

// Classifies a failed statement; marks `c` broken if the connection is gone. `constraint`
// receives the violated constraint's name on a unique violation.
absl::Status StatementError(Connection& c, const PGresult* r, absl::string_view what,
                            std::string* constraint);
// Runs one statement (extended protocol, binary results).
absl::StatusOr<Result> Exec(Connection& c, const char* sql, const Params& params,
                            absl::string_view what, std::string* constraint = nullptr);
// Runs statements without parameters (simple protocol, which allows several in one string).
absl::Status ExecScript(Connection& c, const std::string& sql, absl::string_view what);

int64_t RowsAffected(const PGresult* r);
absl::string_view Value(const PGresult* r, int row, int col);
// An int4, int8 or bool column in binary form.
int64_t BinaryInt(const PGresult* r, int row, int col);

// Rows of kColumns (or kReturningColumns) as records.
absl::StatusOr<std::vector<TaskRecord>> ReadRecords(const PGresult* r);
// An attempt for PostgresTaskStore::Run that reads every row `sql` selects into `*rows`.
std::function<absl::Status(Connection&, bool)> SelectAll(const std::string& sql,
                                                         const Params& params, const char* what,
                                                         std::vector<TaskRecord>* rows);
absl::StatusOr<std::optional<TaskRecord>> SelectOne(Connection& c, const std::string& sql,
                                                    const Params& params);

}  // namespace pg
}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_POSTGRES_SQL_H_
