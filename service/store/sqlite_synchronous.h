// ScopedSynchronous: one SQLite connection at PRAGMA synchronous = FULL for the length of one
// Durability::kSynced write, back at NORMAL after it. SqliteTaskStore's per-write durability.
#ifndef QWENIMAGE_SERVICE_STORE_SQLITE_SYNCHRONOUS_H_
#define QWENIMAGE_SERVICE_STORE_SQLITE_SYNCHRONOUS_H_

#include "absl/status/status.h"
#include "service/store/task_store.h"

struct sqlite3;

namespace qwenimage::store {

// Why a pragma switch rather than an explicit fsync: SQLite owns the WAL file descriptor, and
// `synchronous` is its own knob for "sync the WAL at this commit". In WAL mode NORMAL syncs only
// at checkpoints (a commit survives a process crash, not an OS crash); FULL syncs the WAL after
// the commit, and since the WAL is appended in order, that one fsync also makes every earlier
// NORMAL commit durable. The pragma is per connection and SQLite refuses it inside a
// transaction, so the scope must be opened before BEGIN and closed after COMMIT / ROLLBACK, and
// the caller must hold the connection exclusively for the whole scope.
class ScopedSynchronous {
 public:
  // kRelaxed: does nothing. kSynced: sets FULL; check status() before writing — on failure the
  // connection is unchanged and the write must not go ahead.
  ScopedSynchronous(sqlite3* db, Durability durability);
  // Back to NORMAL if this scope raised it. Should that fail (still inside a transaction after a
  // failed ROLLBACK), the connection stays at FULL: later writes are slower, never less durable,
  // and the next kSynced scope tries again.
  ~ScopedSynchronous();

  ScopedSynchronous(const ScopedSynchronous&) = delete;
  ScopedSynchronous& operator=(const ScopedSynchronous&) = delete;

  const absl::Status& status() const { return status_; }

 private:
  sqlite3* const db_;
  bool raised_ = false;
  absl::Status status_;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_SQLITE_SYNCHRONOUS_H_
