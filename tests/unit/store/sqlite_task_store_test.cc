// Tests for SqliteTaskStore: CRUD, idempotent inserts, listing and paging, resume queries,
// durability levels, upstream-id claims, persistence, schema versioning and migration, and
// concurrent use. Each test owns a fresh database file.
#include "service/store/sqlite_task_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/scoped_test_dir.h"

namespace qwenimage::store {
namespace {

using ::qwenimage::v1::TaskState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

google::protobuf::Timestamp Micros(int64_t us) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return ts;
}

TaskRecord MakeRecord(const std::string& id, const std::string& tenant, int64_t create_us,
                      TaskState state = qwenimage::v1::TASK_STATE_QUEUED,
                      const std::string& request_id = "", const std::string& model = "qwen-image") {
  TaskRecord r;
  r.tenant = tenant;
  r.fingerprint = absl::StrCat("fp-", id);
  r.task.set_id(id);
  r.task.set_state(state);
  r.task.set_request_id(request_id);
  r.task.mutable_spec()->set_model(model);
  r.task.mutable_spec()->set_prompt("a cat");
  *r.task.mutable_create_time() = Micros(create_us);
  return r;
}

std::vector<std::string> Ids(const std::vector<TaskRecord>& records) {
  std::vector<std::string> ids;
  for (const TaskRecord& r : records) ids.push_back(r.task.id());
  return ids;
}

class SqliteTaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "tasks.db").string();
    Reopen();
  }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Insert(const TaskRecord& record) {
    bool inserted = false;
    absl::StatusOr<TaskRecord> got = store_->InsertOrGet(record, &inserted);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(inserted) << record.task.id();
  }

  // Raw access for what the TaskStore interface does not expose.
  std::string PragmaText(const char* pragma) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, pragma, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  // Runs `sql` on a connection of its own (for hand-made databases).
  void ExecRaw(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string Serialized(const std::string& id) {
    absl::StatusOr<TaskRecord> got = store_->Get(id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->task.SerializeAsString() : "";
  }

  ScopedTestDir dir_;
  std::string path_;
  std::unique_ptr<SqliteTaskStore> store_;
};

TEST_F(SqliteTaskStoreTest, InsertGetUpdateDeleteRoundTrip) {
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

TEST_F(SqliteTaskStoreTest, UpdateKeepsTenantAndFingerprint) {
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

TEST_F(SqliteTaskStoreTest, InsertRequiresIdAndCreateTime) {
  bool inserted = true;
  TaskRecord no_id = MakeRecord("", "acme", 1);
  EXPECT_EQ(store_->InsertOrGet(no_id, &inserted).status().code(),
            absl::StatusCode::kInvalidArgument);
  TaskRecord no_time = MakeRecord("t", "acme", 1);
  no_time.task.clear_create_time();
  EXPECT_EQ(store_->InsertOrGet(no_time, &inserted).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteTaskStoreTest, SameRequestIdReturnsFirstTask) {
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

TEST_F(SqliteTaskStoreTest, SameRequestIdInOtherTenantIsIndependent) {
  Insert(MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req"));
  Insert(MakeRecord("b", "globex", 1000, qwenimage::v1::TASK_STATE_QUEUED, "req"));
  EXPECT_TRUE(store_->Get("a").ok());
  EXPECT_TRUE(store_->Get("b").ok());
}

TEST_F(SqliteTaskStoreTest, EmptyRequestIdNeverCollides) {
  Insert(MakeRecord("a", "acme", 1000));
  Insert(MakeRecord("b", "acme", 1000));
  Insert(MakeRecord("c", "acme", 1000));
  ListQuery query;
  query.tenant = "acme";
  EXPECT_EQ(store_->List(query)->size(), 3u);
}

TEST_F(SqliteTaskStoreTest, DuplicateIdIsAlreadyExists) {
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

TEST_F(SqliteTaskStoreTest, ListFilters) {
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

TEST_F(SqliteTaskStoreTest, PagesThroughTiesInCreateTime) {
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

TEST_F(SqliteTaskStoreTest, ListUnfinishedOldestFirst) {
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

TEST_F(SqliteTaskStoreTest, PersistsAcrossReopen) {
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

TEST_F(SqliteTaskStoreTest, UpdateAtEitherDurabilitySurvivesReopen) {
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
  // The connection is back at NORMAL after each synced write; the file stays in WAL mode.
  EXPECT_EQ(PragmaText("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTaskStoreTest, UpdateOfMissingTaskIsNotFoundAtEitherDurability) {
  TaskRecord ghost = MakeRecord("ghost", "acme", 1000);
  EXPECT_EQ(store_->Update(ghost, Durability::kSynced).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Update(ghost, Durability::kRelaxed).code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteTaskStoreTest, UpstreamClaimIsUniqueAcrossTasks) {
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

TEST_F(SqliteTaskStoreTest, ReleasedUpstreamClaimCanBeTaken) {
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

TEST_F(SqliteTaskStoreTest, InsertWritesTheUpstreamClaim) {
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

TEST_F(SqliteTaskStoreTest, FindByUpstreamId) {
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

TEST_F(SqliteTaskStoreTest, MigratesV2DatabaseAndBackfillsUpstreamIds) {
  store_.reset();
  std::filesystem::remove(path_);
  // The v1 and v2 steps exactly as shipped, applied by hand.
  ExecRaw(
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
      "CREATE INDEX tasks_unfinished ON tasks (create_time_us, id) WHERE state NOT IN (4, 5, 6);"
      "CREATE INDEX tasks_by_update_time ON tasks (update_time_us);"
      "PRAGMA user_version = 2;");
  struct OldRow {
    std::string id;
    int64_t create_us;
    TaskState state;
    std::string upstream_id;
  };
  // "young" claims the same upstream task as "old" (possible before v3): the oldest keeps it.
  const std::vector<OldRow> old_rows = {
      {"young", 2000, qwenimage::v1::TASK_STATE_RUNNING, "up-dup"},
      {"done", 500, qwenimage::v1::TASK_STATE_SUCCEEDED, "up-done"},
      {"old", 1000, qwenimage::v1::TASK_STATE_FAILED, "up-dup"},
      {"unsent", 3000, qwenimage::v1::TASK_STATE_QUEUED, ""},
  };
  std::string sql;
  for (const OldRow& row : old_rows) {
    TaskRecord r = MakeRecord(row.id, "acme", row.create_us, row.state);
    r.task.set_upstream_task_id(row.upstream_id);
    std::string hex;
    for (unsigned char c : r.task.SerializeAsString()) {
      absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
    }
    absl::StrAppend(&sql, "INSERT INTO tasks VALUES ('", row.id, "', 'acme', '', 'fp-", row.id,
                    "', ", static_cast<int>(row.state), ", 'qwen-image', ", row.create_us, ", ",
                    row.create_us, ", X'", hex, "');");
  }
  ExecRaw(sql);

  Reopen();
  EXPECT_EQ(PragmaText("PRAGMA user_version"), "3");
  EXPECT_EQ(*store_->FindByUpstreamId("up-done"), "done");
  EXPECT_EQ(*store_->FindByUpstreamId("up-dup"), "old");
  EXPECT_EQ(store_->FindByUpstreamId("").status().code(), absl::StatusCode::kNotFound);
  // The losing claim stays in its blob, and its holder's claim is enforced against it.
  absl::StatusOr<TaskRecord> young = store_->Get("young");
  ASSERT_TRUE(young.ok()) << young.status();
  EXPECT_EQ(young->task.upstream_task_id(), "up-dup");
  EXPECT_EQ(store_->Update(*young).code(), absl::StatusCode::kAlreadyExists);
  young->task.clear_upstream_task_id();
  EXPECT_TRUE(store_->Update(*young).ok());
  // Everything else reads as before.
  EXPECT_THAT(Ids(*store_->ListUnfinished()), ElementsAre("young", "unsent"));
  ListQuery query;
  query.tenant = "acme";
  EXPECT_THAT(Ids(*store_->List(query)), ElementsAre("unsent", "young", "old", "done"));
  // Opening again migrates nothing further.
  Reopen();
  EXPECT_EQ(*store_->FindByUpstreamId("up-dup"), "old");
}

TEST_F(SqliteTaskStoreTest, SchemaVersionAndWalAreSet) {
  EXPECT_EQ(PragmaText("PRAGMA user_version"), absl::StrCat(SqliteTaskStore::kSchemaVersion));
  EXPECT_EQ(PragmaText("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTaskStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  EXPECT_EQ(PragmaText("PRAGMA user_version = 99"), "");
  EXPECT_EQ(PragmaText("PRAGMA user_version"), "99");
  absl::StatusOr<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteTaskStoreTest, OpenFailureIsAnError) {
  absl::StatusOr<std::unique_ptr<SqliteTaskStore>> store =
      SqliteTaskStore::Open((dir_.path() / "missing" / "dir" / "tasks.db").string());
  EXPECT_FALSE(store.ok());
}

TEST_F(SqliteTaskStoreTest, ConcurrentInserts) {
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

TEST_F(SqliteTaskStoreTest, TwoConnectionsOnOneFile) {
  // A second process (or a second store in tests) sees committed writes at once.
  absl::StatusOr<std::unique_ptr<SqliteTaskStore>> other = SqliteTaskStore::Open(path_);
  ASSERT_TRUE(other.ok()) << other.status();
  Insert(MakeRecord("a", "acme", 1));
  EXPECT_TRUE((*other)->Get("a").ok());
}

}  // namespace
}  // namespace qwenimage::store
