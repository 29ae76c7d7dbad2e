// The TaskStore conformance suite: every test runs against each backend — SqliteTaskStore on a
// fresh file and PostgresTaskStore on a fresh database of a throwaway server — so that both keep
// one set of semantics: CRUD, idempotent inserts, listing and paging, resume queries, durability
// levels, upstream-id claims, persistence and concurrent use. Backend-specific behaviour
// (migrations, pragmas, reconnects, timeouts) is tested in sqlite_task_store_test.cc and
// postgres_task_store_test.cc.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/postgres_task_store.h"
#include "service/store/sqlite_task_store.h"
#include "tests/testing/postgres_server.h"
#include "tests/unit/store/task_records.h"

namespace qwenimage::store {
namespace {

using ::qwenimage::v1::TaskState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// One test's database on one backend; Open() may be called again for the same data.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual absl::StatusOr<std::unique_ptr<TaskStore>> Open() = 0;
};

class SqliteBackend : public StoreBackend {
 public:
  SqliteBackend() {
    std::string templ =
        (std::filesystem::path(::testing::TempDir()) / "qwenimage_conformance_XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) dir_ = templ;
  }
  ~SqliteBackend() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  absl::StatusOr<std::unique_ptr<TaskStore>> Open() override {
    if (dir_.empty()) return absl::InternalError("mkdtemp failed");
    absl::StatusOr<std::unique_ptr<SqliteTaskStore>> store =
        SqliteTaskStore::Open(dir_ + "/tasks.db");
    if (!store.ok()) return store.status();
    return std::unique_ptr<TaskStore>(*std::move(store));
  }

 private:
  std::string dir_;
};

class PostgresBackend : public StoreBackend {
 public:
  PostgresBackend(testing::PostgresServer& server, std::string database)
      : server_(server), database_(std::move(database)) {}
  absl::StatusOr<std::unique_ptr<TaskStore>> Open() override {
    PostgresTaskStore::Options options;
    options.dsn = server_.Dsn(database_);
    options.pool_size = 4;
    absl::StatusOr<std::unique_ptr<PostgresTaskStore>> store =
        PostgresTaskStore::Open(std::move(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<TaskStore>(*std::move(store));
  }

 private:
  testing::PostgresServer& server_;
  const std::string database_;
};

struct Backend {
  std::string name;
  // A fresh, empty database; nullptr after recording a skip or a failure.
  std::function<std::unique_ptr<StoreBackend>()> make;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

const Backend kSqlite{"Sqlite", [] { return std::make_unique<SqliteBackend>(); }};
const Backend kPostgres{"Postgres", []() -> std::unique_ptr<StoreBackend> {
                          testing::PostgresServer* server = testing::SharedPostgresServerOrSkip();
                          if (server == nullptr) return nullptr;
                          absl::StatusOr<std::string> database = server->CreateDatabase();
                          if (!database.ok()) {
                            ADD_FAILURE() << database.status();
                            return nullptr;
                          }
                          return std::make_unique<PostgresBackend>(*server, *database);
                        }};

class TaskStoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    if (backend_ == nullptr) {
      if (!IsSkipped() && !HasFailure()) FAIL() << GetParam().name << " backend unavailable";
      return;
    }
    Reopen();
  }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<TaskStore>> store = backend_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Insert(const TaskRecord& record) {
    bool inserted = false;
    absl::StatusOr<TaskRecord> got = store_->InsertOrGet(record, &inserted);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(inserted) << record.task.id();
  }

  std::string Serialized(const std::string& id) {
    absl::StatusOr<TaskRecord> got = store_->Get(id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->task.SerializeAsString() : "";
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<TaskStore> store_;
};

TEST_P(TaskStoreConformanceTest, InsertGetUpdateDeleteRoundTrip) {
  TaskRecord record = MakeRecord("t1", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req-1");
  Insert(record);

  absl::StatusOr<TaskRecord> got = store_->Get("t1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->tenant, "acme");
  EXPECT_EQ(got->fingerprint, "fp-t1");
  EXPECT_EQ(got->task.SerializeAsString(), record.task.SerializeAsString());

  record.task.set_state(qwenimage::v1::TASK_STATE_RUNNING);
  record.task.set_upstream_task_id("up-1");
  *record.task.mutable_update_time() = Micros(2000);
  ASSERT_TRUE(store_->Update(record).ok());
  got = store_->Get("t1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->task.state(), qwenimage::v1::TASK_STATE_RUNNING);
  EXPECT_EQ(got->task.upstream_task_id(), "up-1");

  ASSERT_TRUE(store_->Delete("t1").ok());
  EXPECT_EQ(store_->Get("t1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("t1").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Update(record).code(), absl::StatusCode::kNotFound);
}

TEST_P(TaskStoreConformanceTest, UpdateKeepsTenantAndFingerprint) {
  Insert(MakeRecord("t1", "acme", 1000));
  TaskRecord update = MakeRecord("t1", "", 1000, qwenimage::v1::TASK_STATE_PENDING);
  update.fingerprint.clear();
  ASSERT_TRUE(store_->Update(update).ok());
  absl::StatusOr<TaskRecord> got = store_->Get("t1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tenant, "acme");
  EXPECT_EQ(got->fingerprint, "fp-t1");
  EXPECT_EQ(got->task.state(), qwenimage::v1::TASK_STATE_PENDING);
}

TEST_P(TaskStoreConformanceTest, InsertRequiresIdAndCreateTime) {
  bool inserted = true;
  TaskRecord no_id = MakeRecord("", "acme", 1);
  EXPECT_EQ(store_->InsertOrGet(no_id, &inserted).status().code(),
            absl::StatusCode::kInvalidArgument);
  TaskRecord no_time = MakeRecord("t", "acme", 1);
  no_time.task.clear_create_time();
  EXPECT_EQ(store_->InsertOrGet(no_time, &inserted).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(TaskStoreConformanceTest, SameRequestIdReturnsFirstTask) {
  Insert(MakeRecord("first", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req"));
  bool inserted = true;
  absl::StatusOr<TaskRecord> again = store_->InsertOrGet(
      MakeRecord("second", "acme", 2000, qwenimage::v1::TASK_STATE_QUEUED, "req"), &inserted);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(inserted);
  EXPECT_EQ(again->task.id(), "first");
  EXPECT_EQ(again->fingerprint, "fp-first");
  EXPECT_EQ(store_->Get("second").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(TaskStoreConformanceTest, SameRequestIdInOtherTenantIsIndependent) {
  Insert(MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req"));
  Insert(MakeRecord("b", "globex", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req"));
  EXPECT_TRUE(store_->Get("a").ok());
  EXPECT_TRUE(store_->Get("b").ok());
}

TEST_P(TaskStoreConformanceTest, EmptyRequestIdNeverCollides) {
  Insert(MakeRecord("a", "acme", 1000));
  Insert(MakeRecord("b", "acme", 1000));
  Insert(MakeRecord("c", "acme", 1000));
  ListQuery query;
  query.tenant = "acme";
  EXPECT_EQ(store_->List(query)->size(), 3u);
}

TEST_P(TaskStoreConformanceTest, DuplicateIdIsAlreadyExists) {
  Insert(MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "r1"));
  bool inserted = true;
  EXPECT_EQ(store_
                ->InsertOrGet(MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "r2"),
                              &inserted)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  // A full replay of the same record is still an idempotent retry.
  absl::StatusOr<TaskRecord> replay = store_->InsertOrGet(
      MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "r1"), &inserted);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(inserted);
  // The failed insert left no transaction open behind it.
  Insert(MakeRecord("b", "acme", 1000));
}

TEST_P(TaskStoreConformanceTest, ListFilters) {
  using qwenimage::v1::TASK_STATE_FAILED;
  using qwenimage::v1::TASK_STATE_QUEUED;
  using qwenimage::v1::TASK_STATE_RUNNING;
  using qwenimage::v1::TASK_STATE_SUCCEEDED;
  Insert(MakeRecord("a", "acme", 100, TASK_STATE_QUEUED, "", "qwen-image"));
  Insert(MakeRecord("b", "acme", 200, TASK_STATE_RUNNING, "", "qwen-image-plus"));
  Insert(MakeRecord("c", "acme", 300, TASK_STATE_SUCCEEDED, "", "qwen-image"));
  Insert(MakeRecord("d", "acme", 400, TASK_STATE_FAILED, "", "qwen-image-max"));
  Insert(MakeRecord("x", "globex", 250, TASK_STATE_QUEUED, "", "qwen-image"));

  ListQuery query;
  query.tenant = "acme";
  EXPECT_THAT(Ids(*store_->List(query)), ElementsAre("d", "c", "b", "a"));

  ListQuery by_state = query;
  by_state.states = {TASK_STATE_QUEUED, TASK_STATE_SUCCEEDED};
  EXPECT_THAT(Ids(*store_->List(by_state)), ElementsAre("c", "a"));

  ListQuery by_model = query;
  by_model.model = "qwen-image";
  EXPECT_THAT(Ids(*store_->List(by_model)), ElementsAre("c", "a"));

  ListQuery by_time = query;
  by_time.created_at_or_after = absl::FromUnixMicros(200);
  by_time.created_before = absl::FromUnixMicros(400);
  EXPECT_THAT(Ids(*store_->List(by_time)), ElementsAre("c", "b"));

  ListQuery combined = by_time;
  combined.model = "qwen-image";
  combined.states = {TASK_STATE_SUCCEEDED};
  EXPECT_THAT(Ids(*store_->List(combined)), ElementsAre("c"));

  ListQuery limited = query;
  limited.limit = 2;
  EXPECT_THAT(Ids(*store_->List(limited)), ElementsAre("d", "c"));

  ListQuery nobody;
  nobody.tenant = "initech";
  EXPECT_THAT(Ids(*store_->List(nobody)), IsEmpty());

  ListQuery bad = query;
  bad.limit = 0;
  EXPECT_EQ(store_->List(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(TaskStoreConformanceTest, PagesThroughTiesInCreateTime) {
  // Three tasks share every create time, so only the id breaks ties.
  std::vector<std::string> expected;
  for (int t = 9; t >= 0; --t) {
    for (const char* c : {"c", "b", "a"}) expected.push_back(absl::StrCat("t", t, c));
  }
  // Insert in an order unrelated to the listing order.
  std::vector<std::string> shuffled = expected;
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 7, shuffled.end());
  for (const std::string& id : shuffled) {
    Insert(MakeRecord(id, "acme", 1000 * (id[1] - '0')));
  }
  Insert(MakeRecord("t5z", "globex", 5000));

  for (int page_size : {1, 4, 7, 30, 31}) {
    ListQuery query;
    query.tenant = "acme";
    query.limit = page_size;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<std::vector<TaskRecord>> page = store_->List(query);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->size(), static_cast<size_t>(page_size));
      for (const std::string& id : Ids(*page)) seen.push_back(id);
      if (page->size() < static_cast<size_t>(page_size)) break;
      const qwenimage::v1::Task& last = page->back().task;
      query.after = ListCursor{absl::FromUnixSeconds(last.create_time().seconds()) +
                                   absl::Nanoseconds(last.create_time().nanos()),
                               last.id()};
    }
    EXPECT_EQ(seen, expected) << "page_size " << page_size;
  }
}

TEST_P(TaskStoreConformanceTest, ListUnfinishedOldestFirst) {
  using qwenimage::v1::TASK_STATE_CANCELLED;
  using qwenimage::v1::TASK_STATE_FAILED;
  using qwenimage::v1::TASK_STATE_PENDING;
  using qwenimage::v1::TASK_STATE_QUEUED;
  using qwenimage::v1::TASK_STATE_RUNNING;
  using qwenimage::v1::TASK_STATE_SUCCEEDED;
  Insert(MakeRecord("running", "acme", 300, TASK_STATE_RUNNING));
  Insert(MakeRecord("done", "acme", 100, TASK_STATE_SUCCEEDED));
  Insert(MakeRecord("failed", "acme", 150, TASK_STATE_FAILED));
  Insert(MakeRecord("cancelled", "acme", 160, TASK_STATE_CANCELLED));
  Insert(MakeRecord("queued", "globex", 200, TASK_STATE_QUEUED));
  Insert(MakeRecord("pending", "acme", 50, TASK_STATE_PENDING));
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("pending", "queued", "running"));

  TaskRecord finished = MakeRecord("running", "acme", 300, TASK_STATE_SUCCEEDED);
  ASSERT_TRUE(store_->Update(finished).ok());
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("pending", "queued"));
}

// A record in `state` whose update_time is `update_us`.
TaskRecord UpdatedAt(const std::string& id, int64_t update_us, TaskState state) {
  TaskRecord r = MakeRecord(id, "acme", 100, state);
  *r.task.mutable_update_time() = Micros(update_us);
  return r;
}

TEST_P(TaskStoreConformanceTest, ListFinishedBeforeIsTerminalOldestFirstBeforeTheCutoff) {
  using qwenimage::v1::TASK_STATE_CANCELLED;
  using qwenimage::v1::TASK_STATE_FAILED;
  using qwenimage::v1::TASK_STATE_PENDING;
  using qwenimage::v1::TASK_STATE_QUEUED;
  using qwenimage::v1::TASK_STATE_RUNNING;
  using qwenimage::v1::TASK_STATE_SUCCEEDED;
  Insert(UpdatedAt("ok-late", 3000, TASK_STATE_SUCCEEDED));
  Insert(UpdatedAt("failed", 1000, TASK_STATE_FAILED));
  Insert(UpdatedAt("ok-early", 500, TASK_STATE_SUCCEEDED));
  Insert(UpdatedAt("cancelled", 2000, TASK_STATE_CANCELLED));
  Insert(UpdatedAt("at-cutoff", 4000, TASK_STATE_SUCCEEDED));
  Insert(UpdatedAt("after-cutoff", 5000, TASK_STATE_FAILED));
  // Never listed, however old.
  Insert(UpdatedAt("queued", 10, TASK_STATE_QUEUED));
  Insert(UpdatedAt("pending", 20, TASK_STATE_PENDING));
  Insert(UpdatedAt("running", 30, TASK_STATE_RUNNING));
  TaskRecord other = UpdatedAt("other-tenant", 2500, TASK_STATE_SUCCEEDED);
  other.tenant = "globex";
  Insert(other);

  const absl::Time cutoff = absl::FromUnixMicros(4000);
  EXPECT_THAT(Ids(*store_->ListFinishedBefore(cutoff, 100, std::nullopt)),
              ElementsAre("ok-early", "failed", "cancelled", "other-tenant", "ok-late"));
  EXPECT_THAT(Ids(*store_->ListFinishedBefore(cutoff, 2, std::nullopt)),
              ElementsAre("ok-early", "failed"));
  EXPECT_THAT(Ids(*store_->ListFinishedBefore(absl::FromUnixMicros(500), 100, std::nullopt)),
              IsEmpty());
  EXPECT_EQ(store_->ListFinishedBefore(cutoff, 0, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);

  // A task that finishes later joins the listing; a deleted one leaves it.
  TaskRecord finished = UpdatedAt("running", 1500, TASK_STATE_SUCCEEDED);
  ASSERT_TRUE(store_->Update(finished).ok());
  ASSERT_TRUE(store_->Delete("failed").ok());
  EXPECT_THAT(Ids(*store_->ListFinishedBefore(cutoff, 100, std::nullopt)),
              ElementsAre("ok-early", "running", "cancelled", "other-tenant", "ok-late"));
}

TEST_P(TaskStoreConformanceTest, ListFinishedBeforePagesThroughTiesInUpdateTime) {
  // Three tasks share every update time, so only the id breaks ties.
  std::vector<std::string> expected;
  for (int t = 0; t < 5; ++t) {
    for (const char* c : {"a", "b", "c"}) expected.push_back(absl::StrCat("t", t, c));
  }
  std::vector<std::string> shuffled = expected;
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 4, shuffled.end());
  for (const std::string& id : shuffled) {
    Insert(UpdatedAt(id, 1000 * (id[1] - '0' + 1), qwenimage::v1::TASK_STATE_SUCCEEDED));
  }
  for (int page_size : {1, 2, 4, 15, 16}) {
    std::optional<FinishedCursor> after;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<std::vector<TaskRecord>> page =
          store_->ListFinishedBefore(absl::FromUnixMicros(1'000'000), page_size, after);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->size(), static_cast<size_t>(page_size));
      for (const std::string& id : Ids(*page)) seen.push_back(id);
      if (page->size() < static_cast<size_t>(page_size)) break;
      const qwenimage::v1::Task& last = page->back().task;
      after = FinishedCursor{absl::FromUnixSeconds(last.update_time().seconds()) +
                                 absl::Nanoseconds(last.update_time().nanos()),
                             last.id()};
    }
    EXPECT_EQ(seen, expected) << "page_size " << page_size;
  }
}

TEST_P(TaskStoreConformanceTest, PersistsAcrossReopen) {
  Insert(MakeRecord("keep", "acme", 1000, qwenimage::v1::TASK_STATE_PENDING, "req"));
  Reopen();
  absl::StatusOr<TaskRecord> got = store_->Get("keep");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->task.spec().prompt(), "a cat");
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("keep"));
  // The idempotency index survives too.
  bool inserted = true;
  absl::StatusOr<TaskRecord> again = store_->InsertOrGet(
      MakeRecord("other", "acme", 2000, qwenimage::v1::TASK_STATE_QUEUED, "req"), &inserted);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(inserted);
  EXPECT_EQ(again->task.id(), "keep");
}

TEST_P(TaskStoreConformanceTest, UpdateAtEitherDurabilitySurvivesReopen) {
  Insert(MakeRecord("synced", "acme", 1000));
  Insert(MakeRecord("relaxed", "acme", 1000));
  TaskRecord synced = MakeRecord("synced", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  synced.task.set_upstream_task_id("up-synced");
  ASSERT_TRUE(store_->Update(synced, Durability::kSynced).ok());
  TaskRecord relaxed = MakeRecord("relaxed", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  relaxed.task.set_upstream_task_id("up-relaxed");
  ASSERT_TRUE(store_->Update(relaxed, Durability::kRelaxed).ok());
  // Alternating levels leaves the connection usable for both.
  relaxed.task.set_state(qwenimage::v1::TASK_STATE_SUCCEEDED);
  ASSERT_TRUE(store_->Update(relaxed, Durability::kRelaxed).ok());
  synced.task.set_state(qwenimage::v1::TASK_STATE_SUCCEEDED);
  ASSERT_TRUE(store_->Update(synced).ok());  // the default is kSynced

  Reopen();
  EXPECT_EQ(Serialized("synced"), synced.task.SerializeAsString());
  EXPECT_EQ(Serialized("relaxed"), relaxed.task.SerializeAsString());
  EXPECT_EQ(*store_->FindByUpstreamId("up-synced"), "synced");
  EXPECT_EQ(*store_->FindByUpstreamId("up-relaxed"), "relaxed");
}

TEST_P(TaskStoreConformanceTest, UpdateOfMissingTaskIsNotFoundAtEitherDurability) {
  TaskRecord ghost = MakeRecord("ghost", "acme", 1000);
  EXPECT_EQ(store_->Update(ghost, Durability::kSynced).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Update(ghost, Durability::kRelaxed).code(), absl::StatusCode::kNotFound);
}

TEST_P(TaskStoreConformanceTest, UpstreamClaimIsUniqueAcrossTasks) {
  Insert(MakeRecord("a", "acme", 1000));
  Insert(MakeRecord("b", "globex", 2000));
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  a.task.set_upstream_task_id("up-1");
  ASSERT_TRUE(store_->Update(a).ok());
  const std::string b_before = Serialized("b");

  for (Durability durability : {Durability::kSynced, Durability::kRelaxed}) {
    TaskRecord b = MakeRecord("b", "globex", 2000, qwenimage::v1::TASK_STATE_SUCCEEDED);
    b.task.set_upstream_task_id("up-1");
    b.task.mutable_spec()->set_prompt("a secret prompt");
    absl::Status status = store_->Update(b, durability);
    EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
    EXPECT_THAT(status.message(), HasSubstr("up-1"));
    EXPECT_THAT(status.message(), Not(HasSubstr("secret")));
    // Nothing of the rejected update was written.
    EXPECT_EQ(Serialized("b"), b_before);
  }
  EXPECT_EQ(*store_->FindByUpstreamId("up-1"), "a");
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("a", "b"));

  // The holder re-stating its own claim is fine, at either level.
  a.task.set_state(qwenimage::v1::TASK_STATE_SUCCEEDED);
  EXPECT_TRUE(store_->Update(a, Durability::kRelaxed).ok());
  EXPECT_TRUE(store_->Update(a, Durability::kSynced).ok());
  EXPECT_EQ(Serialized("a"), a.task.SerializeAsString());

  // Empty upstream ids never collide.
  TaskRecord b = MakeRecord("b", "globex", 2000, qwenimage::v1::TASK_STATE_RUNNING);
  EXPECT_TRUE(store_->Update(b).ok());
}

TEST_P(TaskStoreConformanceTest, ReleasedUpstreamClaimCanBeTaken) {
  Insert(MakeRecord("a", "acme", 1000));
  Insert(MakeRecord("b", "acme", 2000));
  TaskRecord a = MakeRecord("a", "acme", 1000);
  a.task.set_upstream_task_id("up-1");
  ASSERT_TRUE(store_->Update(a).ok());
  a.task.clear_upstream_task_id();
  ASSERT_TRUE(store_->Update(a).ok());
  TaskRecord b = MakeRecord("b", "acme", 2000);
  b.task.set_upstream_task_id("up-1");
  ASSERT_TRUE(store_->Update(b).ok());
  EXPECT_EQ(*store_->FindByUpstreamId("up-1"), "b");
  // Deleting the holder frees the claim too.
  ASSERT_TRUE(store_->Delete("b").ok());
  EXPECT_EQ(store_->FindByUpstreamId("up-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(TaskStoreConformanceTest, InsertWritesTheUpstreamClaim) {
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING, "req-a");
  a.task.set_upstream_task_id("up-1");
  Insert(a);
  EXPECT_EQ(*store_->FindByUpstreamId("up-1"), "a");

  // A different task inserted with the same claim is refused, naming the upstream id.
  TaskRecord b = MakeRecord("b", "acme", 2000, qwenimage::v1::TASK_STATE_RUNNING, "req-b");
  b.task.set_upstream_task_id("up-1");
  bool inserted = true;
  absl::StatusOr<TaskRecord> got = store_->InsertOrGet(b, &inserted);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kAlreadyExists) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr("up-1"));
  EXPECT_EQ(store_->Get("b").status().code(), absl::StatusCode::kNotFound);

  // A retry of the first create is still idempotent.
  got = store_->InsertOrGet(a, &inserted);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(inserted);
  EXPECT_EQ(got->task.id(), "a");
  // The failed insert left no transaction open behind it.
  Insert(MakeRecord("c", "acme", 3000));
}

TEST_P(TaskStoreConformanceTest, FindByUpstreamId) {
  Insert(MakeRecord("a", "acme", 1000));
  Insert(MakeRecord("b", "acme", 2000));
  TaskRecord b = MakeRecord("b", "acme", 2000, qwenimage::v1::TASK_STATE_SUCCEEDED);
  b.task.set_upstream_task_id("up-b");
  ASSERT_TRUE(store_->Update(b).ok());

  EXPECT_EQ(*store_->FindByUpstreamId("up-b"), "b");
  absl::StatusOr<std::string> missing = store_->FindByUpstreamId("up-zzz");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // "a" has no claim: the empty upstream id finds nothing.
  EXPECT_EQ(store_->FindByUpstreamId("").status().code(), absl::StatusCode::kNotFound);
  // Exact match only.
  EXPECT_EQ(store_->FindByUpstreamId("up-").status().code(), absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(*store_->FindByUpstreamId("up-b"), "b");
}

TEST_P(TaskStoreConformanceTest, ConcurrentInserts) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::atomic<int> inserted_same{0};
  std::vector<std::string> winners(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool inserted = false;
        const auto got = store_->InsertOrGet(
            MakeRecord(absl::StrCat("t", t, "-", i), "acme", 1000 + i), &inserted);
        EXPECT_TRUE(got.ok() && inserted) << got.status();
      }
      // Every thread races to create the same idempotent task; exactly one wins.
      bool inserted = false;
      const auto got = store_->InsertOrGet(
          MakeRecord(absl::StrCat("race-", t), "acme", 5, qwenimage::v1::TASK_STATE_QUEUED, "same"),
          &inserted);
      ASSERT_TRUE(got.ok()) << got.status();
      if (inserted) inserted_same.fetch_add(1);
      winners[t] = got->task.id();
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(inserted_same.load(), 1);
  EXPECT_EQ(std::set<std::string>(winners.begin(), winners.end()).size(), 1u);
  ListQuery query;
  query.tenant = "acme";
  query.limit = 1000;
  EXPECT_EQ(store_->List(query)->size(), static_cast<size_t>(kThreads * kPerThread + 1));
}

TEST_P(TaskStoreConformanceTest, TwoStoresOnOneDatabase) {
  // A second process (or a second store in tests) sees committed writes at once.
  absl::StatusOr<std::unique_ptr<TaskStore>> other = backend_->Open();
  ASSERT_TRUE(other.ok()) << other.status();
  Insert(MakeRecord("a", "acme", 1));
  EXPECT_TRUE((*other)->Get("a").ok());
}

TEST_P(TaskStoreConformanceTest, IdsCompareBytewise) {
  // Upper case, punctuation and lower case sort by byte value, whatever the database's locale.
  for (const char* id : {"a", "B", "_", "Z9", "b"}) Insert(MakeRecord(id, "acme", 1000));
  ListQuery query;
  query.tenant = "acme";
  EXPECT_THAT(Ids(*store_->List(query)), ElementsAre("b", "a", "_", "Z9", "B"));
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("B", "Z9", "_", "a", "b"));
  query.after = ListCursor{absl::FromUnixMicros(1000), "_"};
  EXPECT_THAT(Ids(*store_->List(query)), ElementsAre("Z9", "B"));
}

TEST_P(TaskStoreConformanceTest, ConcurrentClaimsOfOneUpstreamIdHaveOneWinner) {
  constexpr int kTasks = 8;
  for (int i = 0; i < kTasks; ++i) Insert(MakeRecord(absl::StrCat("t", i), "acme", 1000 + i));
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kTasks; ++i) {
    threads.emplace_back([&, i] {
      TaskRecord r =
          MakeRecord(absl::StrCat("t", i), "acme", 1000 + i, qwenimage::v1::TASK_STATE_RUNNING);
      r.task.set_upstream_task_id("up-contested");
      absl::Status status = store_->Update(r);
      if (status.ok()) {
        won.fetch_add(1);
      } else if (absl::IsAlreadyExists(status)) {
        refused.fetch_add(1);
      } else {
        ADD_FAILURE() << status;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kTasks - 1);
  absl::StatusOr<std::string> holder = store_->FindByUpstreamId("up-contested");
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_EQ(store_->Get(*holder)->task.upstream_task_id(), "up-contested");
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskStoreConformanceTest, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace qwenimage::store
