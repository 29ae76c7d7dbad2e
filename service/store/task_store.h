// TaskStore: durable task records. SqliteTaskStore is the embedded default; PostgreSQL serves
// replicas. Every state transition is written here before it is published to watchers.
#ifndef QWENIMAGE_SERVICE_STORE_TASK_STORE_H_
#define QWENIMAGE_SERVICE_STORE_TASK_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "qwenimage/v1/task.pb.h"

namespace qwenimage::store {

struct TaskRecord {
  std::string tenant;
  // Hash of the normalised request, to tell a retried create from a conflicting one.
  std::string fingerprint;
  qwenimage::v1::Task task;  // task.id, task.request_id, task.create_time are required
  // Read only: a caller on another replica asked to cancel it (replica_store.h). Never written
  // through Update, and always false in a store that serves one node.
  bool cancel_requested = false;
};

// Position in the newest-first listing order (create_time desc, id desc).
struct ListCursor {
  absl::Time create_time;
  std::string id;
};

struct ListQuery {
  std::string tenant;                            // required
  std::vector<qwenimage::v1::TaskState> states;  // empty = any
  std::string model;                             // "" = any
  std::optional<absl::Time> created_at_or_after;
  std::optional<absl::Time> created_before;
  std::optional<ListCursor> after;  // strictly after this position
  int limit = 50;
};

// Position in the oldest-first order of finished tasks (update_time asc, id asc).
struct FinishedCursor {
  absl::Time update_time;
  std::string id;
};

// How hard a write must be made durable before it returns.
enum class Durability {
  // On stable storage (fsync) before returning: a write after which a billed call is sent or an
  // outcome is reported, whose loss in an OS crash could re-bill or lose billed work.
  kSynced,
  // Survives a process crash, may be lost with the OS: progress a restart re-learns upstream.
  kRelaxed,
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Inserts `record` (kSynced: the caller is told the task exists). If the tenant already has a
  // task with the same non-empty request_id, nothing is written and that task is returned
  // instead with `*inserted` false.
  virtual absl::StatusOr<TaskRecord> InsertOrGet(const TaskRecord& record, bool* inserted) = 0;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<TaskRecord> Get(absl::string_view task_id) = 0;
  // Replaces the stored task (same id). NOT_FOUND if absent. A non-empty
  // task.upstream_task_id is a claim, unique across tasks: ALREADY_EXISTS (and nothing written)
  // if another task already holds that upstream task.
  virtual absl::Status Update(const TaskRecord& record,
                              Durability durability = Durability::kSynced) = 0;
  // The id of the task holding `upstream_task_id`; NOT_FOUND if none does.
  virtual absl::StatusOr<std::string> FindByUpstreamId(absl::string_view upstream_task_id) = 0;
  virtual absl::StatusOr<std::vector<TaskRecord>> List(const ListQuery& query) = 0;
  // Every task not in a terminal state, oldest first (for resume after a restart).
  virtual absl::StatusOr<std::vector<TaskRecord>> ListUnfinished() = 0;
  // Terminal tasks (SUCCEEDED, FAILED, CANCELLED) whose update_time is before `cutoff`, oldest
  // first (update_time, then id), strictly after `after` if given, at most `limit` (> 0;
  // INVALID_ARGUMENT otherwise). Retention's query, on a partial index of the terminal tasks.
  virtual absl::StatusOr<std::vector<TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<FinishedCursor>& after) = 0;
  // NOT_FOUND if absent.
  virtual absl::Status Delete(absl::string_view task_id) = 0;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_TASK_STORE_H_
