// ReplicaRole with real TaskManagers on one FakeReplicaStore "database" (rows in SQLite), a fake
// clock and a manual executor: who leads, what a standby does with creates and cancels, how a
// new holder takes over an older epoch's tasks without re-sending them, and how a holder that
// lost its lease stops.
#include "service/tasks/replica_role.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/ids.h"
#include "service/store/dir_image_store.h"
#include "service/store/replica_store.h"
#include "service/store/sqlite_task_store.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_manager.h"
#include "tests/testing/fake_replica_store.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/manual_executor.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

constexpr char kLease[] = "dashscope-account";
constexpr absl::Duration kTtl = absl::Seconds(15);
constexpr absl::Duration kClaimInterval = absl::Seconds(2);

// One gateway process: its connection to the shared database, its upstream, its manager and
// its role.
struct Replica {
  std::string holder;
  std::unique_ptr<testing::FakeReplicaStore> store;
  testing::FakeUpstream upstream;
  std::unique_ptr<TaskManager> manager;
  std::unique_ptr<ReplicaRole> role;
  int lost = 0;
  absl::Status lost_status;
  int fenced = 0;

  int UpstreamCalls() {
    absl::MutexLock lock(&upstream.mu_);
    return static_cast<int>(upstream.creates.size() + upstream.generates.size() +
                            upstream.gets.size() + upstream.lists.size() + upstream.cancels.size() +
                            upstream.downloads.size());
  }
};

class ReplicaRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/rr_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    tasks_ = *store::SqliteTaskStore::Open(dir_ + "/tasks.db");
    images_ = *store::DirImageStore::Open(dir_ + "/images");
    db_ = std::make_unique<testing::FakeReplicaStore>(*tasks_, clock_);
    options_.scheduler.default_limits = {2, 0};
    options_.queue_ahead = 0;
    options_.task_queries_per_second = 0;
  }

  void TearDown() override {
    for (Replica* r : {b_.get(), a_.get()}) {
      if (r == nullptr) continue;
      r->role->Stop();
      r->manager->Shutdown();
    }
    executor_.RunUntilIdle();
    b_.reset();
    a_.reset();
  }

  // A replica whose manager started (a standby until its role leads); its role is made, not
  // started.
  std::unique_ptr<Replica> MakeReplica(const std::string& holder) {
    auto r = std::make_unique<Replica>();
    Replica* raw = r.get();
    r->holder = holder;
    r->store = db_->Connect();
    TaskManagerOptions options = options_;
    options.replicas = r->store.get();
    options.on_fenced = [raw](const absl::Status&) { ++raw->fenced; };
    r->manager = std::make_unique<TaskManager>(options, dashscope::ModelCatalog::Default(),
                                               *r->store, *images_, r->upstream, executor_, clock_);
    EXPECT_TRUE(r->manager->Start().ok());
    ReplicaRoleOptions role;
    role.lease_name = kLease;
    role.holder = holder;
    role.lease_ttl = kTtl;
    role.claim_interval = kClaimInterval;
    r->role = std::make_unique<ReplicaRole>(role, *r->store, *r->manager, executor_, clock_,
                                            [raw](const absl::Status& s) {
                                              ++raw->lost;
                                              raw->lost_status = s;
                                            });
    return r;
  }

  std::unique_ptr<Replica> StartReplica(const std::string& holder) {
    std::unique_ptr<Replica> r = MakeReplica(holder);
    EXPECT_TRUE(r->role->Start().ok());
    executor_.RunUntilIdle();
    return r;
  }

  static dashscope::GenerationParams Params(const std::string& model) {
    dashscope::GenerationParams p;
    p.model = model;
    p.prompt = "a cat";
    p.size = "1328*1328";
    p.n = 1;
    return p;
  }

  // A new task as TaskManager::Create stores it.
  store::TaskRecord NewRecord(const std::string& model) {
    store::TaskRecord r;
    r.tenant = "tenant";
    v1::Task& t = r.task;
    t.set_id(NewTaskId());
    t.set_state(v1::TASK_STATE_QUEUED);
    *t.mutable_spec() = ToSpec(Params(model));
    t.set_region("singapore");
    t.set_upstream_mode(ToProto(dashscope::ModelCatalog::Default().Find(model)->mode));
    ToProto(clock_.Now(), t.mutable_create_time());
    ToProto(clock_.Now(), t.mutable_update_time());
    r.fingerprint = SpecFingerprint(t.spec());
    return r;
  }

  // A task an earlier lease holder (epoch `epoch`, the lease already its) stored: inserted,
  // then written through `update` as that epoch.
  std::string StoreAsOlderEpoch(testing::FakeReplicaStore& old, int64_t epoch,
                                store::TaskRecord record,
                                const std::function<void(v1::Task&)>& update) {
    bool inserted = false;
    EXPECT_TRUE(old.InsertOrGet(record, &inserted).ok());
    old.SetWriterEpoch(epoch);
    update(record.task);
    EXPECT_TRUE(old.Update(record, store::Durability::kSynced).ok());
    EXPECT_EQ(db_->owner_epoch(record.task.id()), epoch);
    return record.task.id();
  }

  v1::Task Create(Replica& r, const std::string& model) {
    absl::StatusOr<v1::Task> t = r.manager->Create("tenant", quotas_, "", Params(model));
    EXPECT_TRUE(t.ok()) << t.status();
    executor_.RunUntilIdle();
    return *t;
  }

  v1::Task Stored(const std::string& id) { return tasks_->Get(id)->task; }

  void AnswerCreate(Replica& r, const std::string& upstream_id) {
    ASSERT_FALSE(r.upstream.creates.empty());
    testing::FakeUpstream::Pop(r.upstream.creates)
        .done(dashscope::CreatedTask{upstream_id, TaskStatus::kPending, "req-create"});
    executor_.RunUntilIdle();
  }

  std::string dir_;
  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
  std::unique_ptr<store::SqliteTaskStore> tasks_;
  std::unique_ptr<store::DirImageStore> images_;
  std::unique_ptr<testing::FakeReplicaStore> db_;  // the test's own connection
  TaskManagerOptions options_;
  TenantQuotas quotas_ = options_.tenant_defaults;
  std::unique_ptr<Replica> a_;
  std::unique_ptr<Replica> b_;
};

TEST_F(ReplicaRoleTest, ALoneReplicaLeadsFromItsStart) {
  a_ = StartReplica("replica-a");
  EXPECT_TRUE(a_->role->Leading());
  EXPECT_TRUE(a_->manager->Leading());
  EXPECT_EQ(db_->lease_holder(kLease), "replica-a");
  EXPECT_EQ(a_->store->writer_epoch(), a_->role->epoch());

  v1::Task task = Create(*a_, "qwen-image-plus");
  ASSERT_EQ(a_->upstream.creates.size(), 1u);
  EXPECT_EQ(db_->owner_epoch(task.id()), a_->role->epoch());
}

TEST_F(ReplicaRoleTest, AStandbyStoresCreatesAndSendsNothingUpstream) {
  ASSERT_TRUE(db_->AcquireLease(kLease, "replica-other", kTtl)->has_value());
  a_ = StartReplica("replica-a");
  ASSERT_FALSE(a_->role->Leading());
  ASSERT_FALSE(a_->manager->Leading());

  v1::Task task = Create(*a_, "qwen-image-plus");
  EXPECT_EQ(task.state(), v1::TASK_STATE_QUEUED);
  executor_.AdvanceBy(kTtl / 2);  // a few of its ticks: still another's lease
  EXPECT_EQ(a_->UpstreamCalls(), 0);
  EXPECT_FALSE(a_->manager->Runs(task.id()));
  EXPECT_EQ(Stored(task.id()).state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(db_->owner_epoch(task.id()), 0);  // unclaimed, for the holder
}

TEST_F(ReplicaRoleTest, TheHolderClaimsTasksStoredByAStandby) {
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  b_ = StartReplica("replica-b");
  ASSERT_FALSE(b_->role->Leading());

  v1::Task task = Create(*b_, "qwen-image-plus");
  EXPECT_TRUE(a_->upstream.creates.empty());
  db_->NotifyStored(task.id());  // the insert's notification
  executor_.RunUntilIdle();
  EXPECT_EQ(a_->upstream.creates.size(), 1u);
  EXPECT_TRUE(a_->manager->Runs(task.id()));
  EXPECT_EQ(db_->owner_epoch(task.id()), a_->role->epoch());

  // The same notification again, the holder's own write's, and the periodic sweeps: once.
  db_->Notify({task.id(), 0, false});
  db_->NotifyStored(task.id());
  executor_.AdvanceBy(kClaimInterval * 3);
  EXPECT_EQ(a_->upstream.creates.size(), 1u);
  EXPECT_EQ(b_->UpstreamCalls(), 0);
}

TEST_F(ReplicaRoleTest, FailoverResumesPollingWithoutResubmitting) {
  std::unique_ptr<testing::FakeReplicaStore> old = db_->Connect();
  const int64_t old_epoch = **old->AcquireLease(kLease, "replica-old", kTtl);
  const std::string id =
      StoreAsOlderEpoch(*old, old_epoch, NewRecord("qwen-image-plus"), [&](v1::Task& t) {
        t.set_state(v1::TASK_STATE_PENDING);
        t.set_upstream_task_id("up-old");
        ToProto(clock_.Now(), t.mutable_submit_time());
      });

  a_ = StartReplica("replica-a");
  ASSERT_FALSE(a_->role->Leading());  // the old lease still runs
  executor_.AdvanceBy(kTtl + kClaimInterval);
  ASSERT_TRUE(a_->role->Leading());
  EXPECT_GT(a_->role->epoch(), old_epoch);
  EXPECT_EQ(db_->owner_epoch(id), a_->role->epoch());

  executor_.AdvanceBy(options_.max_poll_interval);
  ASSERT_FALSE(a_->upstream.gets.empty());
  auto poll = testing::FakeUpstream::Pop(a_->upstream.gets);
  EXPECT_EQ(poll.arg, "up-old");
  dashscope::UpstreamTask done;
  done.task_id = "up-old";
  done.status = TaskStatus::kSucceeded;
  done.request_id = "req-get";
  done.images.push_back({"https://x.aliyuncs.com/1.png", "a cat", "a cat"});
  done.image_count = 1;
  poll.done(done);
  executor_.RunUntilIdle();
  while (!a_->upstream.downloads.empty()) {
    testing::FakeUpstream::Pop(a_->upstream.downloads).done(FakePng(1328, 1328));
    executor_.RunUntilIdle();
  }
  EXPECT_EQ(Stored(id).state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(a_->upstream.creates.empty());
}

TEST_F(ReplicaRoleTest, ASyncCallCutShortOnADeadReplicaEndsInterrupted) {
  std::unique_ptr<testing::FakeReplicaStore> old = db_->Connect();
  const int64_t old_epoch = **old->AcquireLease(kLease, "replica-old", kTtl);
  const std::string id =
      StoreAsOlderEpoch(*old, old_epoch, NewRecord("qwen-image-max"), [&](v1::Task& t) {
        t.set_state(v1::TASK_STATE_RUNNING);
        ToProto(clock_.Now(), t.mutable_submit_time());
        ToProto(clock_.Now(), t.mutable_start_time());
      });

  a_ = StartReplica("replica-a");
  executor_.AdvanceBy(kTtl + kClaimInterval);
  ASSERT_TRUE(a_->role->Leading());

  v1::Task after = Stored(id);
  EXPECT_EQ(after.state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(after.error().code(), "Interrupted");
  EXPECT_TRUE(a_->upstream.generates.empty());
}

TEST_F(ReplicaRoleTest, LosingTheLeaseCallsOnLost) {
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  // The database gave the lease to another replica (its clock ran ahead of this one's view).
  db_->TakeOver(kLease, "replica-b", kTtl);

  executor_.AdvanceBy(kTtl / 2);  // past the first renewal, refused
  EXPECT_EQ(a_->lost, 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(a_->lost_status)) << a_->lost_status;
  EXPECT_FALSE(a_->role->Leading());
  executor_.AdvanceBy(kTtl * 2);
  EXPECT_EQ(a_->lost, 1);
}

TEST_F(ReplicaRoleTest, ALeaseThatCannotBeRenewedIsLostWhenItsTtlRanOut) {
  const absl::Time start = clock_.Now();
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  db_->FailLeaseCalls(1'000'000);  // the database is unreachable from now on

  while (clock_.Now() - start < kTtl) {
    EXPECT_EQ(a_->lost, 0) << "lost after " << (clock_.Now() - start);
    executor_.AdvanceBy(absl::Seconds(1));
  }
  executor_.AdvanceBy(kClaimInterval);      // the next tick sees its own view ended
  EXPECT_GT(db_->failed_lease_calls(), 0);  // renewals were tried
  EXPECT_EQ(a_->lost, 1);
  EXPECT_TRUE(absl::IsDeadlineExceeded(a_->lost_status)) << a_->lost_status;
  executor_.AdvanceBy(kTtl * 2);
  EXPECT_EQ(a_->lost, 1);
}

TEST_F(ReplicaRoleTest, AFencedWriteStopsTheTaskAndCallsOnFenced) {
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  const int64_t newer = a_->role->epoch() + 1;

  // Created (stored), then claimed by a newer epoch before the "sent" marker is written.
  absl::StatusOr<v1::Task> first =
      a_->manager->Create("tenant", quotas_, "", Params("qwen-image-plus"));
  absl::StatusOr<v1::Task> second =
      a_->manager->Create("tenant", quotas_, "", Params("qwen-image-plus"));
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(db_->ClaimUnfinished(newer, 10)->size(), 2u);
  executor_.RunUntilIdle();

  EXPECT_EQ(db_->fenced_updates(), 2);
  EXPECT_EQ(a_->fenced, 1);  // once for the process
  EXPECT_FALSE(a_->manager->Runs(first->id()));
  EXPECT_FALSE(a_->manager->Runs(second->id()));
  executor_.AdvanceBy(absl::Minutes(1));
  EXPECT_TRUE(a_->upstream.creates.empty());
  EXPECT_FALSE(Stored(first->id()).has_submit_time());  // the refused write wrote nothing
  EXPECT_EQ(a_->fenced, 1);
}

TEST_F(ReplicaRoleTest, AHolderPausedPastItsLeaseAfterTheMarkerWriteSendsNothing) {
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  // The process stalls right after the "sent" marker is stored (a GC pause, a frozen VM): when it
  // goes on, its lease has run out by its own clock, though nothing told it yet.
  bool paused = false;
  a_->store->after_update = [this, &paused](const store::TaskRecord& r) {
    if (paused || !r.task.has_submit_time()) return;
    paused = true;
    clock_.Set(clock_.Now() + kTtl + absl::Seconds(1));
  };
  absl::StatusOr<v1::Task> task =
      a_->manager->Create("tenant", quotas_, "", Params("qwen-image-plus"));
  ASSERT_TRUE(task.ok());
  executor_.RunUntilIdle();

  ASSERT_TRUE(paused);
  EXPECT_TRUE(a_->upstream.creates.empty());  // the billed call never left
  EXPECT_EQ(a_->fenced, 1);
  EXPECT_FALSE(a_->manager->Runs(task->id()));
  // The marker stays for the next holder, whose resolution finds nothing upstream.
  EXPECT_TRUE(Stored(task->id()).has_submit_time());
}

TEST_F(ReplicaRoleTest, ACancelOnAStandbyIsCarriedOutByTheHolder) {
  a_ = StartReplica("replica-a");
  b_ = StartReplica("replica-b");
  ASSERT_TRUE(a_->role->Leading());
  ASSERT_FALSE(b_->role->Leading());
  v1::Task task = Create(*b_, "qwen-image-plus");
  db_->NotifyStored(task.id());
  executor_.RunUntilIdle();
  AnswerCreate(*a_, "up-1");
  ASSERT_EQ(Stored(task.id()).state(), v1::TASK_STATE_PENDING);

  std::optional<absl::StatusOr<v1::Task>> cancelled;
  b_->manager->Cancel("tenant", task.id(), [&](absl::StatusOr<v1::Task> t) { cancelled = t; });
  executor_.RunUntilIdle();
  EXPECT_TRUE(db_->cancel_requested(task.id()));
  EXPECT_FALSE(cancelled.has_value());  // the holder has not carried it out yet

  db_->NotifyStored(task.id());  // the request's notification
  executor_.RunUntilIdle();
  ASSERT_EQ(a_->upstream.cancels.size(), 1u);
  EXPECT_EQ(a_->upstream.cancels.front().arg, "up-1");
  testing::FakeUpstream::Pop(a_->upstream.cancels).done(std::string("req-cancel"));
  executor_.RunUntilIdle();
  EXPECT_EQ(Stored(task.id()).state(), v1::TASK_STATE_CANCELLED);

  db_->NotifyStored(task.id());  // the holder's write of the end
  executor_.RunUntilIdle();
  ASSERT_TRUE(cancelled.has_value());
  ASSERT_TRUE(cancelled->ok()) << cancelled->status();
  EXPECT_EQ((*cancelled)->state(), v1::TASK_STATE_CANCELLED);
  EXPECT_EQ(b_->UpstreamCalls(), 0);
}

TEST_F(ReplicaRoleTest, ACancelRequestIsSentUpstreamOnceWhileItsReplyIsAwaited) {
  a_ = StartReplica("replica-a");
  b_ = StartReplica("replica-b");
  v1::Task task = Create(*b_, "qwen-image-plus");
  db_->NotifyStored(task.id());
  executor_.RunUntilIdle();
  AnswerCreate(*a_, "up-1");
  b_->manager->Cancel("tenant", task.id(), [](absl::StatusOr<v1::Task>) {});
  executor_.RunUntilIdle();

  // The request's notification, then sweeps every claim interval and the notifications of the
  // holder's own writes (which carry the request along) while the upstream cancel is in flight.
  db_->NotifyStored(task.id());
  executor_.AdvanceBy(kClaimInterval * 3);
  db_->NotifyStored(task.id());
  executor_.RunUntilIdle();
  ASSERT_EQ(a_->upstream.cancels.size(), 1u);
  testing::FakeUpstream::Pop(a_->upstream.cancels).done(std::string("req-cancel"));
  executor_.RunUntilIdle();
  EXPECT_EQ(Stored(task.id()).state(), v1::TASK_STATE_CANCELLED);
}

TEST_F(ReplicaRoleTest, StopReleasesTheLease) {
  a_ = StartReplica("replica-a");
  ASSERT_TRUE(a_->role->Leading());
  ASSERT_FALSE(db_->AcquireLease(kLease, "replica-b", kTtl)->has_value());

  a_->manager->BeginDrain();
  a_->role->Stop();
  EXPECT_FALSE(a_->role->Leading());
  absl::StatusOr<std::optional<int64_t>> taken = db_->AcquireLease(kLease, "replica-b", kTtl);
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(taken->has_value());  // at once: no wait for the expiry
  EXPECT_EQ(db_->lease_holder(kLease), "replica-b");
}

}  // namespace
}  // namespace qwenimage::tasks
