// SQLite-only tests for SqliteTaskStore: schema versioning and migration (with the v3 backfill),
// WAL mode across durability levels, and open failures. Each test owns a fresh database file. The
// TaskStore semantics both backends share are in task_store_conformance_test.cc.
#include "service/store/sqlite_task_store.h"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/scoped_test_dir.h"
#include "tests/unit/store/task_records.h"

namespace qwenimage::store {
namespace {

using ::qwenimage::v1::TaskState;
using ::testing::ElementsAre;

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

  // The `detail` column of EXPLAIN QUERY PLAN for `sql`, one entry per step.
  std::vector<std::string> QueryPlan(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::string> plan;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    EXPECT_EQ(sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      plan.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return plan;
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
  EXPECT_EQ(PragmaText("PRAGMA user_version"), absl::StrCat(SqliteTaskStore::kSchemaVersion));
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
  EXPECT_THAT(Ids(*store_->ListFinishedBefore(absl::FromUnixMicros(5000), 10, std::nullopt)),
              ElementsAre("done", "old"));
  // Opening again migrates nothing further.
  Reopen();
  EXPECT_EQ(*store_->FindByUpstreamId("up-dup"), "old");
}

TEST_F(SqliteTaskStoreTest, SchemaVersionAndWalAreSet) {
  EXPECT_EQ(PragmaText("PRAGMA user_version"), absl::StrCat(SqliteTaskStore::kSchemaVersion));
  EXPECT_EQ(PragmaText("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTaskStoreTest, ListFinishedBeforeUsesThePartialIndex) {
  // The statement's shapes as ListFinishedBefore builds them (with and without a cursor).
  for (const char* sql :
       {"SELECT tenant, fingerprint, task FROM tasks WHERE state IN (4, 5, 6) AND"
        " update_time_us < 1 ORDER BY update_time_us, id LIMIT 10",
        "SELECT tenant, fingerprint, task FROM tasks WHERE state IN (4, 5, 6) AND"
        " update_time_us < 1 AND (update_time_us, id) > (0, 'a') ORDER BY update_time_us, id"
        " LIMIT 10"}) {
    EXPECT_THAT(QueryPlan(sql), ElementsAre(::testing::HasSubstr("INDEX tasks_finished")))
        << sql;
  }
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

TEST_F(SqliteTaskStoreTest, AlternatingDurabilityKeepsWalMode) {
  Insert(MakeRecord("a", "acme", 1000));
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  ASSERT_TRUE(store_->Update(a, Durability::kRelaxed).ok());
  ASSERT_TRUE(store_->Update(a, Durability::kSynced).ok());
  ASSERT_TRUE(store_->Update(a, Durability::kRelaxed).ok());
  // The connection is back at NORMAL after each synced write; the file stays in WAL mode.
  EXPECT_EQ(PragmaText("PRAGMA journal_mode"), "wal");
}

}  // namespace
}  // namespace qwenimage::store
