// PostgreSQL tests for PostgresTaskStore's ReplicaStore side (replica_store.h), with one or two
// stores on one fresh database of a throwaway server standing for one or two replicas: the
// account lease, the owner_epoch fence, claims of unfinished tasks (FOR UPDATE SKIP LOCKED),
// cancel requests, the LISTEN/NOTIFY change feed and its resync, and the v3 migration.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/postgres_task_store.h"
#include "service/store/replica_store.h"
#include "tests/testing/postgres_server.h"
#include "tests/unit/store/task_records.h"

namespace qwenimage::store {
namespace {

using ::qwenimage::v1::TaskState;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kLease[] = "account";
// A failure guard for waits on a condition, never a timing expectation.
constexpr absl::Duration kGuard = absl::Seconds(30);

// "<id> <owner_epoch> <cancel_requested 0|1>", so that sequences compare and print plainly.
std::string Describe(const TaskChange& change) {
  return absl::StrCat(change.task_id, " ", change.owner_epoch, " ",
                      change.cancel_requested ? 1 : 0);
}

// What a listener received, in order, for a test thread to wait on.
class ChangeLog {
 public:
  void Add(const TaskChange& change) {
    absl::MutexLock lock(&mu_);
    changes_.push_back(Describe(change));
  }
  // Waits until a change described as `wanted` has arrived; false after kGuard.
  bool WaitFor(const std::string& wanted) {
    absl::MutexLock lock(&mu_);
    auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return std::find(changes_.begin(), changes_.end(), wanted) != changes_.end();
    };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), kGuard);
  }
  std::vector<std::string> changes() const {
    absl::MutexLock lock(&mu_);
    return changes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> changes_ ABSL_GUARDED_BY(mu_);
};

// The description of the resync TaskChange (an empty task_id).
const std::string kResync = Describe(TaskChange{});

class PostgresReplicaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::SharedPostgresServerOrSkip();
    if (server_ == nullptr) return;
    absl::StatusOr<std::string> database = server_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
  }

  // One replica's store on the test's database.
  std::unique_ptr<PostgresTaskStore> OpenStore() {
    PostgresTaskStore::Options options;
    options.dsn = server_->Dsn(database_);
    options.pool_size = 2;
    absl::StatusOr<std::unique_ptr<PostgresTaskStore>> store =
        PostgresTaskStore::Open(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::vector<std::string> Query(const std::string& sql) {
    absl::StatusOr<std::vector<std::string>> rows = server_->Query(database_, sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<std::string>();
  }

  std::vector<std::string> OwnerEpoch(const std::string& id) {
    return Query(absl::StrCat("SELECT owner_epoch FROM tasks WHERE id = '", id, "'"));
  }

  static void Insert(PostgresTaskStore& store, const TaskRecord& record) {
    bool inserted = false;
    absl::StatusOr<TaskRecord> got = store.InsertOrGet(record, &inserted);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(inserted) << record.task.id();
  }

  // Acquires the lease for `holder`, which must be free.
  static int64_t Acquire(PostgresTaskStore& store, const std::string& holder,
                         absl::Duration ttl = absl::Minutes(5)) {
    absl::StatusOr<std::optional<int64_t>> epoch = store.AcquireLease(kLease, holder, ttl);
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    EXPECT_TRUE(epoch.ok() && epoch->has_value()) << holder << " did not get the lease";
    return epoch.ok() && epoch->has_value() ? **epoch : -1;
  }

  testing::PostgresServer* server_ = nullptr;
  std::string database_;
};

TEST_F(PostgresReplicaStoreTest, LeaseIsHeldByOneHolderAtATime) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const int64_t e1 = Acquire(*a, "replica-a");
  EXPECT_GT(e1, 0);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::optional<int64_t>> taken =
        b->AcquireLease(kLease, "replica-b", absl::Minutes(5));
    ASSERT_TRUE(taken.ok()) << taken.status();
    EXPECT_EQ(*taken, std::nullopt);
  }
  // The holder still holds it at its epoch.
  EXPECT_TRUE(a->RenewLease(kLease, "replica-a", e1, absl::Minutes(5)).ok());
}

TEST_F(PostgresReplicaStoreTest, ExpiredLeaseIsTakenWithAGreaterEpoch) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const int64_t e1 = Acquire(*a, "replica-a", absl::Milliseconds(200));
  // Wait for the expiry by the database's clock: B keeps asking until it gets the lease.
  std::optional<int64_t> e2;
  const absl::Time give_up = absl::Now() + kGuard;
  while (!e2.has_value() && absl::Now() < give_up) {
    absl::StatusOr<std::optional<int64_t>> taken =
        b->AcquireLease(kLease, "replica-b", absl::Minutes(5));
    ASSERT_TRUE(taken.ok()) << taken.status();
    e2 = *taken;
  }
  ASSERT_TRUE(e2.has_value()) << "the expired lease was never taken";
  EXPECT_GT(*e2, e1);
  absl::Status renew = a->RenewLease(kLease, "replica-a", e1, absl::Minutes(5));
  EXPECT_EQ(renew.code(), absl::StatusCode::kFailedPrecondition) << renew;
}

TEST_F(PostgresReplicaStoreTest, RenewExtendsAHeldLease) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const int64_t e1 = Acquire(*a, "replica-a", absl::Minutes(5));
  ASSERT_TRUE(a->RenewLease(kLease, "replica-a", e1, absl::Minutes(10)).ok());
  // The renewed expiry is ten minutes out, not the five it was acquired with.
  EXPECT_THAT(Query("SELECT expires_at > now() + interval '9 minutes' FROM leases"),
              ElementsAre("t"));
  absl::StatusOr<std::optional<int64_t>> taken =
      b->AcquireLease(kLease, "replica-b", absl::Minutes(5));
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(*taken, std::nullopt);
  EXPECT_TRUE(a->RenewLease(kLease, "replica-a", e1, absl::Minutes(10)).ok());
}

TEST_F(PostgresReplicaStoreTest, ReleasedLeaseIsTakenAtOnce) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const int64_t e1 = Acquire(*a, "replica-a", absl::Minutes(5));
  ASSERT_TRUE(a->ReleaseLease(kLease, "replica-a", e1).ok());
  absl::StatusOr<std::optional<int64_t>> taken =
      b->AcquireLease(kLease, "replica-b", absl::Minutes(5));
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_TRUE(taken->has_value()) << "the released lease was not free";
  EXPECT_GT(**taken, e1);
  EXPECT_EQ(a->RenewLease(kLease, "replica-a", e1, absl::Minutes(5)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PostgresReplicaStoreTest, StaleOwnerUpdateIsFencedAndWritesNothing) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Insert(*a, MakeRecord("t", "acme", 1000));
  a->SetWriterEpoch(1);
  TaskRecord by_a = MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_PENDING);
  by_a.task.set_upstream_task_id("up-a");
  ASSERT_TRUE(a->Update(by_a).ok());

  b->SetWriterEpoch(2);
  absl::StatusOr<std::vector<TaskRecord>> claimed = b->ClaimUnfinished(2, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_THAT(Ids(*claimed), ElementsAre("t"));
  TaskRecord by_b = MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_RUNNING);
  by_b.task.set_upstream_task_id("up-b");
  ASSERT_TRUE(b->Update(by_b).ok());

  TaskRecord stale = MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_SUCCEEDED);
  stale.task.set_upstream_task_id("up-a");
  for (Durability durability : {Durability::kSynced, Durability::kRelaxed}) {
    absl::Status refused = a->Update(stale, durability);
    EXPECT_TRUE(IsFenced(refused)) << refused;
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  }
  absl::StatusOr<TaskRecord> got = a->Get("t");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->task.SerializeAsString(), by_b.task.SerializeAsString());
  EXPECT_THAT(OwnerEpoch("t"), ElementsAre("2"));
}

TEST_F(PostgresReplicaStoreTest, ClaimAloneFencesTheFormerOwner) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Insert(*a, MakeRecord("t", "acme", 1000));
  a->SetWriterEpoch(1);
  TaskRecord by_a = MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_RUNNING);
  ASSERT_TRUE(a->Update(by_a).ok());

  // B claims the task A just wrote, and writes nothing yet.
  absl::StatusOr<std::vector<TaskRecord>> claimed = b->ClaimUnfinished(2, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_THAT(Ids(*claimed), ElementsAre("t"));
  EXPECT_EQ((*claimed)[0].task.SerializeAsString(), by_a.task.SerializeAsString());

  absl::Status refused = a->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_SUCCEEDED));
  EXPECT_TRUE(IsFenced(refused)) << refused;
  EXPECT_EQ(a->Get("t")->task.SerializeAsString(), by_a.task.SerializeAsString());
  EXPECT_THAT(OwnerEpoch("t"), ElementsAre("2"));
}

TEST_F(PostgresReplicaStoreTest, WriterWithoutALeaseCannotUpdateAClaimedTask) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Insert(*a, MakeRecord("t", "acme", 1000));
  // Epoch 0 may write an unclaimed task...
  ASSERT_TRUE(a->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_PENDING)).ok());
  ASSERT_TRUE(b->ClaimUnfinished(1, 10).ok());
  // ...but not one an epoch has claimed.
  absl::Status refused = a->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_RUNNING));
  EXPECT_TRUE(IsFenced(refused)) << refused;
  EXPECT_EQ(a->Get("t")->task.state(), TaskState::TASK_STATE_PENDING);
}

TEST_F(PostgresReplicaStoreTest, UpdateOfMissingTaskIsStillNotFound) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore();
  ASSERT_NE(a, nullptr);
  a->SetWriterEpoch(4);
  absl::Status missing = a->Update(MakeRecord("nope", "acme", 1000));
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_FALSE(IsFenced(missing));
}

TEST_F(PostgresReplicaStoreTest, ClaimTakesUnfinishedTasksOfOlderEpochsOldestFirst) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore();
  ASSERT_NE(a, nullptr);
  // Unfinished, unclaimed; "b" and "c" share a create time, so the id orders them.
  Insert(*a, MakeRecord("d", "acme", 4000, TaskState::TASK_STATE_QUEUED));
  Insert(*a, MakeRecord("c", "acme", 2000, TaskState::TASK_STATE_RUNNING));
  Insert(*a, MakeRecord("b", "acme", 2000, TaskState::TASK_STATE_PENDING));
  Insert(*a, MakeRecord("a", "acme", 3000, TaskState::TASK_STATE_QUEUED));
  // Terminal: never claimed, whatever their age.
  Insert(*a, MakeRecord("done", "acme", 100, TaskState::TASK_STATE_SUCCEEDED));
  Insert(*a, MakeRecord("failed", "acme", 100, TaskState::TASK_STATE_FAILED));
  Insert(*a, MakeRecord("gone", "acme", 100, TaskState::TASK_STATE_CANCELLED));
  // An older epoch's unfinished task is claimable; the claiming epoch's own and a newer one's
  // are not.
  Insert(*a, MakeRecord("old", "acme", 1000, TaskState::TASK_STATE_RUNNING));
  Insert(*a, MakeRecord("mine", "acme", 500, TaskState::TASK_STATE_RUNNING));
  Insert(*a, MakeRecord("newer", "acme", 500, TaskState::TASK_STATE_RUNNING));
  a->SetWriterEpoch(3);
  ASSERT_TRUE(a->Update(MakeRecord("old", "acme", 1000, TaskState::TASK_STATE_RUNNING)).ok());
  a->SetWriterEpoch(5);
  ASSERT_TRUE(a->Update(MakeRecord("mine", "acme", 500, TaskState::TASK_STATE_RUNNING)).ok());
  a->SetWriterEpoch(6);
  ASSERT_TRUE(a->Update(MakeRecord("newer", "acme", 500, TaskState::TASK_STATE_RUNNING)).ok());

  absl::StatusOr<std::vector<TaskRecord>> first = a->ClaimUnfinished(5, 3);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(Ids(*first), ElementsAre("old", "b", "c"));
  absl::StatusOr<std::vector<TaskRecord>> rest = a->ClaimUnfinished(5, 3);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(Ids(*rest), ElementsAre("a", "d"));
  absl::StatusOr<std::vector<TaskRecord>> none = a->ClaimUnfinished(5, 3);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(Ids(*none), IsEmpty());

  EXPECT_THAT(Query("SELECT id || ':' || owner_epoch FROM tasks ORDER BY id"),
              ElementsAre("a:5", "b:5", "c:5", "d:5", "done:0", "failed:0", "gone:0", "mine:5",
                          "newer:6", "old:5"));
  EXPECT_EQ(a->ClaimUnfinished(5, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PostgresReplicaStoreTest, ConcurrentClaimsNeverShareATask) {
  constexpr int kTasks = 200;
  constexpr int64_t kEpoch = 7;
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_NO_FATAL_FAILURE(Insert(*a, MakeRecord(absl::StrCat("t", i), "acme", 1000 + i)));
  }
  absl::Notification go;
  std::vector<std::string> claimed[2];
  std::vector<std::thread> threads;
  PostgresTaskStore* stores[2] = {a.get(), b.get()};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      go.WaitForNotification();
      for (;;) {
        absl::StatusOr<std::vector<TaskRecord>> got = stores[t]->ClaimUnfinished(kEpoch, 10);
        if (!got.ok()) {
          ADD_FAILURE() << got.status();
          return;
        }
        if (got->empty()) return;
        EXPECT_LE(got->size(), 10u);
        for (const TaskRecord& r : *got) claimed[t].push_back(r.task.id());
      }
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();

  std::multiset<std::string> all(claimed[0].begin(), claimed[0].end());
  all.insert(claimed[1].begin(), claimed[1].end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kTasks));
  const std::set<std::string> distinct(all.begin(), all.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kTasks)) << "a task was claimed twice";
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(distinct.count(absl::StrCat("t", i)), 1u) << i;
  EXPECT_THAT(Query("SELECT count(*) FROM tasks WHERE owner_epoch <> 7"), ElementsAre("0"));
}

TEST_F(PostgresReplicaStoreTest, CancelRequestIsListedForItsOwnerUntilTheTaskEnds) {
  std::unique_ptr<PostgresTaskStore> owner = OpenStore(), other = OpenStore();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  Insert(*other, MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_RUNNING));
  Insert(*other, MakeRecord("u", "acme", 2000, TaskState::TASK_STATE_RUNNING));
  owner->SetWriterEpoch(3);
  ASSERT_TRUE(owner->ClaimUnfinished(3, 10).ok());

  ASSERT_TRUE(other->RequestCancel("t").ok());
  EXPECT_THAT(*owner->ListCancelRequests(3), ElementsAre("t"));
  EXPECT_THAT(*owner->ListCancelRequests(4), IsEmpty());
  EXPECT_THAT(*owner->ListCancelRequests(0), IsEmpty());
  absl::StatusOr<TaskRecord> got = owner->Get("t");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->cancel_requested);
  EXPECT_FALSE(owner->Get("u")->cancel_requested);

  // The owner carries it out; the request stays recorded but is no longer listed.
  ASSERT_TRUE(owner->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_CANCELLED)).ok());
  EXPECT_THAT(*owner->ListCancelRequests(3), IsEmpty());

  absl::Status missing = other->RequestCancel("nope");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

TEST_F(PostgresReplicaStoreTest, ListenerDeliversInsertsUpdatesAndCancelRequests) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ChangeLog log;
  ASSERT_TRUE(a->StartListening([&log](const TaskChange& c) { log.Add(c); }).ok());
  EXPECT_EQ(a->StartListening([](const TaskChange&) {}).code(),
            absl::StatusCode::kFailedPrecondition);

  Insert(*b, MakeRecord("t", "acme", 1000));
  ASSERT_TRUE(log.WaitFor("t 0 0")) << ::testing::PrintToString(log.changes());
  b->SetWriterEpoch(3);
  ASSERT_TRUE(b->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_PENDING)).ok());
  ASSERT_TRUE(log.WaitFor("t 3 0")) << ::testing::PrintToString(log.changes());
  ASSERT_TRUE(b->RequestCancel("t").ok());
  ASSERT_TRUE(log.WaitFor("t 3 1")) << ::testing::PrintToString(log.changes());

  // A claim changes only owner_epoch: no change. The real update after it is the next one.
  absl::StatusOr<std::vector<TaskRecord>> claimed = b->ClaimUnfinished(4, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_THAT(Ids(*claimed), ElementsAre("t"));
  b->SetWriterEpoch(5);
  ASSERT_TRUE(b->Update(MakeRecord("t", "acme", 1000, TaskState::TASK_STATE_RUNNING)).ok());
  ASSERT_TRUE(log.WaitFor("t 5 1")) << ::testing::PrintToString(log.changes());

  EXPECT_THAT(log.changes(), ElementsAre("t 0 0", "t 3 0", "t 3 1", "t 5 1"));
  a->StopListening();
}

TEST_F(PostgresReplicaStoreTest, ListenerReportsAResyncAfterItsConnectionIsLost) {
  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ChangeLog log;
  ASSERT_TRUE(a->StartListening([&log](const TaskChange& c) { log.Add(c); }).ok());

  EXPECT_THAT(Query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                    " WHERE query LIKE 'LISTEN%' AND datname = current_database()"),
              ElementsAre("t"));
  ASSERT_TRUE(log.WaitFor(kResync)) << ::testing::PrintToString(log.changes());
  EXPECT_THAT(log.changes(), Not(Contains("after 0 0")));

  Insert(*b, MakeRecord("after", "acme", 1000));
  ASSERT_TRUE(log.WaitFor("after 0 0")) << ::testing::PrintToString(log.changes());
  EXPECT_THAT(log.changes(), ElementsAre(kResync, "after 0 0"));
}

TEST_F(PostgresReplicaStoreTest, MigratesAnExistingV2Database) {
  const TaskRecord old = MakeRecord("old", "acme", 1000, TaskState::TASK_STATE_RUNNING);
  {
    std::unique_ptr<PostgresTaskStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    Insert(*store, old);
  }
  // Back to v2 with its task: undo the v3 step (migrations are append-only, so v2 is v3 without
  // it).
  ASSERT_TRUE(server_
                  ->Exec(database_,
                         "DROP TRIGGER tasks_notify_insert ON tasks;"
                         "DROP TRIGGER tasks_notify_update ON tasks;"
                         "DROP TRIGGER tasks_notify_delete ON tasks;"
                         "DROP FUNCTION qwenimage_notify_task();"
                         "DROP FUNCTION qwenimage_notify_task_deleted();"
                         "DROP TABLE leases;"
                         "DROP INDEX tasks_cancel_requested;"
                         "ALTER TABLE tasks DROP COLUMN owner_epoch, DROP COLUMN cancel_requested;"
                         "DELETE FROM schema_version WHERE version = 3")
                  .ok());
  ASSERT_THAT(Query("SELECT max(version) FROM schema_version"), ElementsAre("2"));

  std::unique_ptr<PostgresTaskStore> a = OpenStore(), b = OpenStore();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(Query("SELECT version FROM schema_version ORDER BY version"),
              ElementsAre("1", "2", "3"));
  EXPECT_THAT(Query("SELECT owner_epoch || ' ' || cancel_requested FROM tasks"),
              ElementsAre("0 false"));
  absl::StatusOr<TaskRecord> got = a->Get("old");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->task.SerializeAsString(), old.task.SerializeAsString());
  EXPECT_FALSE(got->cancel_requested);

  // The v3 features work on the migrated data: lease, claim, fence and the feed.
  ChangeLog log;
  ASSERT_TRUE(b->StartListening([&log](const TaskChange& c) { log.Add(c); }).ok());
  const int64_t epoch = Acquire(*a, "replica-a");
  absl::StatusOr<std::vector<TaskRecord>> claimed = a->ClaimUnfinished(epoch, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_THAT(Ids(*claimed), ElementsAre("old"));
  EXPECT_TRUE(IsFenced(b->Update(old)));
  ASSERT_TRUE(b->RequestCancel("old").ok());
  ASSERT_TRUE(log.WaitFor(absl::StrCat("old ", epoch, " 1")))
      << ::testing::PrintToString(log.changes());
}

}  // namespace
}  // namespace qwenimage::store
