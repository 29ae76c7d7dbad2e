// PostgresTaskStore's ReplicaStore side: the account lease, claims, cancel requests and the
// LISTEN connection that turns the tasks trigger's notifications into TaskChanges.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/store/postgres_sql.h"
#include "service/store/postgres_task_store.h"

namespace qwenimage::store {
namespace {

using pg::BinaryInt;
using pg::Connection;
using pg::Exec;
using pg::Params;
using pg::Result;

constexpr char kChannel[] = "qwenimage_tasks";

int64_t Micros(absl::Duration d) { return std::max<int64_t>(1, absl::ToInt64Microseconds(d)); }

// "<owner_epoch> <cancel_requested 0|1> <id>", as the v3 trigger writes it.
std::optional<TaskChange> ParseChange(absl::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits(' ', 2));
  TaskChange change;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &change.owner_epoch) ||
      (parts[1] != "0" && parts[1] != "1") || parts[2].empty()) {
    return std::nullopt;
  }
  change.cancel_requested = parts[1] == "1";
  change.task_id = std::string(parts[2]);
  return change;
}

bool ByAge(const TaskRecord& a, const TaskRecord& b) {
  const int64_t ta = pg::ToMicros(a.task.create_time()), tb = pg::ToMicros(b.task.create_time());
  return ta != tb ? ta < tb : a.task.id() < b.task.id();
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> PostgresTaskStore::AcquireLease(absl::string_view name,
                                                                       absl::string_view holder,
                                                                       absl::Duration ttl) {
  // The first lease ever starts above every epoch a task row carries, so that it can claim them
  // all even if the leases row was removed by hand.
  const Params params = Params().Text(name).Text(holder).Int8(Micros(ttl));
  std::optional<int64_t> epoch;
  absl::Status status = Run("acquire lease", [&](Connection& c, bool) -> absl::Status {
    absl::StatusOr<Result> r = Exec(
        c,
        "INSERT INTO leases AS l (name, holder, epoch, expires_at)"
        " VALUES ($1, $2, (SELECT coalesce(max(owner_epoch), 0) + 1 FROM tasks),"
        "         now() + $3 * interval '1 microsecond')"
        " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1,"
        "   expires_at = EXCLUDED.expires_at"
        " WHERE l.expires_at < now() OR l.holder = EXCLUDED.holder"
        " RETURNING epoch",
        params, "acquire lease");
    if (!r.ok()) return r.status();
    epoch.reset();
    if (PQntuples(r->get()) == 1) epoch = BinaryInt(r->get(), 0, 0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return epoch;
}

absl::Status PostgresTaskStore::RenewLease(absl::string_view name, absl::string_view holder,
                                           int64_t epoch, absl::Duration ttl) {
  const Params params = Params().Text(name).Text(holder).Int8(epoch).Int8(Micros(ttl));
  return Run("renew lease", [&](Connection& c, bool) -> absl::Status {
    absl::StatusOr<Result> r =
        Exec(c,
             "UPDATE leases SET expires_at = now() + $4 * interval '1 microsecond'"
             " WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at >= now()",
             params, "renew lease");
    if (!r.ok()) return r.status();
    if (pg::RowsAffected(r->get()) == 1) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("lease ", name, " at epoch ", epoch, " expired or was taken over"));
  });
}

absl::Status PostgresTaskStore::ReleaseLease(absl::string_view name, absl::string_view holder,
                                             int64_t epoch) {
  const Params params = Params().Text(name).Text(holder).Int8(epoch);
  return Run("release lease", [&](Connection& c, bool) -> absl::Status {
    return Exec(c,
                "UPDATE leases SET expires_at = now() - interval '1 microsecond'"
                " WHERE name = $1 AND holder = $2 AND epoch = $3",
                params, "release lease")
        .status();
  });
}

absl::StatusOr<std::vector<TaskRecord>> PostgresTaskStore::ClaimUnfinished(int64_t epoch,
                                                                           int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  const std::string claim = absl::StrCat(
      "UPDATE tasks SET owner_epoch = $1 WHERE id IN ("
      " SELECT id FROM tasks WHERE " QWENIMAGE_PG_UNFINISHED " AND owner_epoch < $1"
      " ORDER BY create_time_us, id LIMIT $2 FOR UPDATE SKIP LOCKED)",
      pg::kReturningColumns);
  // After an attempt that may have committed, its claims are this epoch's already: the retry
  // returns them as well (the caller skips the ones it holds).
  const std::string owned =
      absl::StrCat(pg::kColumns, "WHERE " QWENIMAGE_PG_UNFINISHED " AND owner_epoch = $1");
  const Params params = Params().Int8(epoch).Int8(limit);
  const Params owned_params = Params().Int8(epoch);
  std::vector<TaskRecord> rows;
  absl::Status status = Run("claim", [&](Connection& c, bool maybe_committed) -> absl::Status {
    absl::StatusOr<Result> r = Exec(c, claim.c_str(), params, "claim");
    if (!r.ok()) return r.status();
    absl::StatusOr<std::vector<TaskRecord>> claimed = pg::ReadRecords(r->get());
    if (!claimed.ok()) return claimed.status();
    rows = *std::move(claimed);
    if (maybe_committed) {
      absl::StatusOr<Result> mine = Exec(c, owned.c_str(), owned_params, "claimed");
      if (!mine.ok()) return mine.status();
      absl::StatusOr<std::vector<TaskRecord>> held = pg::ReadRecords(mine->get());
      if (!held.ok()) return held.status();
      for (TaskRecord& r : *held) rows.push_back(std::move(r));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  std::sort(rows.begin(), rows.end(), ByAge);
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const TaskRecord& a, const TaskRecord& b) {
                           return a.task.id() == b.task.id();
                         }),
             rows.end());
  return rows;
}

absl::Status PostgresTaskStore::RequestCancel(absl::string_view task_id) {
  return Run("request cancel", [&](Connection& c, bool maybe_committed) -> absl::Status {
    absl::StatusOr<Result> r = Exec(c, "UPDATE tasks SET cancel_requested = true WHERE id = $1",
                                    Params().Text(task_id), "request cancel");
    if (!r.ok()) return r.status();
    if (pg::RowsAffected(r->get()) == 0 && !maybe_committed) {
      return absl::NotFoundError(absl::StrCat("task ", task_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::string>> PostgresTaskStore::ListCancelRequests(int64_t epoch) {
  std::vector<std::string> ids;
  absl::Status status = Run("list cancel requests", [&](Connection& c, bool) -> absl::Status {
    absl::StatusOr<Result> r =
        Exec(c,
             "SELECT id FROM tasks WHERE cancel_requested AND " QWENIMAGE_PG_UNFINISHED
             " AND owner_epoch = $1 ORDER BY create_time_us, id",
             Params().Int8(epoch), "list cancel requests");
    if (!r.ok()) return r.status();
    ids.clear();
    for (int i = 0; i < PQntuples(r->get()); ++i) ids.emplace_back(pg::Value(r->get(), i, 0));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return ids;
}

absl::Status PostgresTaskStore::StartListening(std::function<void(const TaskChange&)> on_change) {
  if (listener_ != nullptr) return absl::FailedPreconditionError("already listening");
  // The first LISTEN before returning: a change committed after this call is delivered.
  absl::StatusOr<std::unique_ptr<Connection>> c = Connect(absl::ZeroDuration());
  if (!c.ok()) return c.status();
  if (absl::Status s = pg::ExecScript(**c, absl::StrCat("LISTEN ", kChannel), "listen"); !s.ok()) {
    return s;
  }
  listener_ = std::make_unique<Listener>(*this, *std::move(c), std::move(on_change));
  return absl::OkStatus();
}

void PostgresTaskStore::StopListening() { listener_.reset(); }

PostgresTaskStore::Listener::Listener(PostgresTaskStore& store,
                                      std::unique_ptr<Connection> connection,
                                      std::function<void(const TaskChange&)> on_change)
    : store_(store),
      on_change_(std::move(on_change)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this, c = std::move(connection)]() mutable { Run(std::move(c)); }) {}

PostgresTaskStore::Listener::~Listener() {
  stop_.store(true);
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The eventfd cannot overflow here; the thread also checks stop_ at each wake-up.
  }
  thread_.join();
  close(wake_fd_);
}

bool PostgresTaskStore::Listener::WaitForStop(absl::Duration timeout) {
  pollfd wake{wake_fd_, POLLIN, 0};
  poll(&wake, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  return stop_.load();
}

bool PostgresTaskStore::Listener::Drain(Connection& c) {
  pollfd fds[2] = {{PQsocket(c.get()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (poll(fds, 2, -1) < 0) return !stop_.load();  // EINTR: look again
  if (stop_.load()) return false;
  if (PQconsumeInput(c.get()) == 0) return false;  // lost
  while (PGnotify* n = PQnotifies(c.get())) {
    std::optional<TaskChange> change = ParseChange(n->extra);
    PQfreemem(n);
    if (change.has_value()) on_change_(*change);
  }
  return PQstatus(c.get()) == CONNECTION_OK;
}

void PostgresTaskStore::Listener::Run(std::unique_ptr<Connection> c) {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.load()) {
    if (c == nullptr) {
      if (WaitForStop(backoff)) return;
      backoff = std::min(backoff * 2, absl::Seconds(5));
      absl::StatusOr<std::unique_ptr<Connection>> fresh = store_.Connect(absl::ZeroDuration());
      if (!fresh.ok()) continue;
      if (!pg::ExecScript(**fresh, absl::StrCat("LISTEN ", kChannel), "listen").ok()) continue;
      c = *std::move(fresh);
      backoff = absl::Milliseconds(100);
      on_change_(TaskChange{});  // whatever changed while no one listened is unknown
    }
    while (Drain(*c)) {
    }
    c.reset();
  }
}

}  // namespace qwenimage::store
