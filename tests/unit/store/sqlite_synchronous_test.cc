// Tests for ScopedSynchronous on a raw SQLite connection: which level it sets, that it restores
// NORMAL, and that it refuses (and changes nothing) inside a transaction.
#include "service/store/sqlite_synchronous.h"

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/store/scoped_test_dir.h"

namespace qwenimage::store {
namespace {

// PRAGMA synchronous reads back 1 for NORMAL and 2 for FULL.
constexpr int kNormal = 1;
constexpr int kFull = 2;

class ScopedSynchronousTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = (dir_.path() / "sync.db").string();
    ASSERT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec("PRAGMA journal_mode = WAL");
    Exec("PRAGMA synchronous = NORMAL");
    Exec("CREATE TABLE t (v INTEGER)");
  }
  void TearDown() override { sqlite3_close(db_); }

  void Exec(const char* sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

  // The level of this connection: the pragma is per connection, so only it can tell.
  int Level() {
    sqlite3_stmt* stmt = nullptr;
    int level = -1;
    if (sqlite3_prepare_v2(db_, "PRAGMA synchronous", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      level = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return level;
  }

  ScopedTestDir dir_;
  sqlite3* db_ = nullptr;
};

TEST_F(ScopedSynchronousTest, SyncedRaisesToFullForTheScopeOnly) {
  ASSERT_EQ(Level(), kNormal);
  {
    ScopedSynchronous synced(db_, Durability::kSynced);
    ASSERT_TRUE(synced.status().ok()) << synced.status();
    EXPECT_EQ(Level(), kFull);
    Exec("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(Level(), kNormal);
}

TEST_F(ScopedSynchronousTest, RelaxedLeavesNormal) {
  {
    ScopedSynchronous relaxed(db_, Durability::kRelaxed);
    EXPECT_TRUE(relaxed.status().ok());
    EXPECT_EQ(Level(), kNormal);
    Exec("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(Level(), kNormal);
}

TEST_F(ScopedSynchronousTest, WrapsAnExplicitTransaction) {
  {
    ScopedSynchronous synced(db_, Durability::kSynced);
    ASSERT_TRUE(synced.status().ok());
    Exec("BEGIN IMMEDIATE");
    Exec("INSERT INTO t VALUES (1)");
    Exec("COMMIT");
  }
  EXPECT_EQ(Level(), kNormal);
}

TEST_F(ScopedSynchronousTest, InsideATransactionFailsAndChangesNothing) {
  Exec("BEGIN");
  {
    ScopedSynchronous synced(db_, Durability::kSynced);
    EXPECT_FALSE(synced.status().ok());
  }
  Exec("COMMIT");
  EXPECT_EQ(Level(), kNormal);
}

}  // namespace
}  // namespace qwenimage::store
