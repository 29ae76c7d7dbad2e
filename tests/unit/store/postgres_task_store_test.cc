// PostgreSQL-only tests for PostgresTaskStore, on a fresh database of a throwaway server:
// migrations under concurrent opens, refusing a newer schema, transparent retry of terminated
// connections, writes whose reply is lost not being repeated, the statement timeout, the pool's
// bound, the libpq environment, and the password never showing. The TaskStore semantics shared
// with SQLite are in task_store_conformance_test.cc.
#include "service/store/postgres_task_store.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/unit/store/task_records.h"

namespace qwenimage::store {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

class PostgresTaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::SharedPostgresServerOrSkip();
    if (server_ == nullptr) return;
    absl::StatusOr<std::string> database = server_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
  }

  PostgresTaskStore::Options Defaults() const {
    PostgresTaskStore::Options options;
    options.dsn = server_->Dsn(database_);
    options.pool_size = 2;
    return options;
  }

  std::unique_ptr<PostgresTaskStore> OpenStore(PostgresTaskStore::Options options) {
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

  // Terminates every server backend of the store(s) on this database and waits until they are
  // gone, as an operator's pg_terminate_backend or a server restart would.
  void TerminateStoreConnections() {
    std::vector<std::string> terminated = Query(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = 'qwen-image-gateway'");
    ASSERT_FALSE(terminated.empty());
    for (const std::string& ok : terminated) EXPECT_EQ(ok, "t");
  }

  testing::PostgresServer* server_ = nullptr;
  std::string database_;
};

TEST_F(PostgresTaskStoreTest, MigrationsRunOnceUnderConcurrentOpens) {
  constexpr int kOpeners = 4;
  absl::Notification go;
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      absl::StatusOr<std::unique_ptr<PostgresTaskStore>> store =
          PostgresTaskStore::Open(Defaults());
      if (store.ok()) {
        opened.fetch_add(1);
      } else {
        ADD_FAILURE() << store.status();
      }
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), kOpeners);
  std::vector<std::string> versions;
  for (int v = 1; v <= PostgresTaskStore::kSchemaVersion; ++v) versions.push_back(absl::StrCat(v));
  EXPECT_THAT(Query("SELECT version FROM schema_version ORDER BY version"),
              ElementsAreArray(versions));
  // And a later open migrates nothing further.
  ASSERT_NE(OpenStore(Defaults()), nullptr);
  EXPECT_THAT(Query("SELECT version FROM schema_version ORDER BY version"),
              ElementsAreArray(versions));
}

TEST_F(PostgresTaskStoreTest, NewerSchemaIsRefused) {
  ASSERT_NE(OpenStore(Defaults()), nullptr);
  Query("INSERT INTO schema_version (version) VALUES (99)");
  absl::StatusOr<std::unique_ptr<PostgresTaskStore>> store = PostgresTaskStore::Open(Defaults());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
}

TEST_F(PostgresTaskStoreTest, ListFinishedBeforeCanUseThePartialIndex) {
  ASSERT_NE(OpenStore(Defaults()), nullptr);
  // The statement's shapes as ListFinishedBefore builds them; with sequential scans priced out,
  // the planner must find an index that matches the terminal-state predicate.
  for (const char* sql :
       {"SELECT tenant, fingerprint, task FROM tasks WHERE state IN (4, 5, 6) AND"
        " update_time_us < 1 ORDER BY update_time_us, id LIMIT 10",
        "SELECT tenant, fingerprint, task FROM tasks WHERE state IN (4, 5, 6) AND"
        " update_time_us < 1 AND (update_time_us, id) > (0, 'a') ORDER BY update_time_us, id"
        " LIMIT 10"}) {
    const std::vector<std::string> plan =
        Query(absl::StrCat("SET enable_seqscan = off; SET enable_sort = off; EXPLAIN ", sql));
    EXPECT_THAT(absl::StrJoin(plan, "\n"), HasSubstr("tasks_finished")) << sql;
  }
}

TEST_F(PostgresTaskStoreTest, TerminatedConnectionIsRetriedTransparently) {
  PostgresTaskStore::Options options = Defaults();
  options.pool_size = 1;  // every call reuses the one connection that gets terminated
  std::unique_ptr<PostgresTaskStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  bool inserted = false;
  ASSERT_TRUE(store->InsertOrGet(MakeRecord("a", "acme", 1000), &inserted).ok());

  TerminateStoreConnections();
  EXPECT_TRUE(store->Get("a").ok());
  TerminateStoreConnections();
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  a.task.set_upstream_task_id("up-a");
  EXPECT_TRUE(store->Update(a, Durability::kRelaxed).ok());
  TerminateStoreConnections();
  absl::StatusOr<TaskRecord> b = store->InsertOrGet(
      MakeRecord("b", "acme", 2000, qwenimage::v1::TASK_STATE_QUEUED, "req-b"), &inserted);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(inserted);
  TerminateStoreConnections();
  ListQuery query;
  query.tenant = "acme";
  absl::StatusOr<std::vector<TaskRecord>> listed = store->List(query);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(Ids(*listed), ::testing::ElementsAre("b", "a"));
  TerminateStoreConnections();
  EXPECT_TRUE(store->Delete("b").ok());

  EXPECT_EQ(store->stats().retries, 5);
  EXPECT_EQ(store->Get("a")->task.SerializeAsString(), a.task.SerializeAsString());
  EXPECT_EQ(*store->FindByUpstreamId("up-a"), "a");
  EXPECT_EQ(store->Get("b").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PostgresTaskStoreTest, WriteWhoseReplyIsLostIsNotRepeated) {
  std::atomic<bool> lose_next{false};
  PostgresTaskStore::Options options = Defaults();
  options.lose_reply_after_write_for_testing = [&lose_next] { return lose_next.exchange(false); };
  std::unique_ptr<PostgresTaskStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);

  // Each write commits, its reply is "lost", and the retry on a fresh connection finds its own
  // work done: the caller sees one success, the database one transition.
  for (const char* request_id : {"req-a", ""}) {
    const std::string id = *request_id ? "a" : "b";
    lose_next = true;
    bool inserted = false;
    absl::StatusOr<TaskRecord> got = store->InsertOrGet(
        MakeRecord(id, "acme", 1000, qwenimage::v1::TASK_STATE_QUEUED, request_id), &inserted);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(inserted) << id;
    EXPECT_EQ(got->task.id(), id);
  }
  EXPECT_THAT(Query("SELECT id FROM tasks ORDER BY id"), ::testing::ElementsAre("a", "b"));

  lose_next = true;
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING, "req-a");
  a.task.set_upstream_task_id("up-a");
  EXPECT_TRUE(store->Update(a).ok());
  EXPECT_EQ(store->Get("a")->task.SerializeAsString(), a.task.SerializeAsString());

  lose_next = true;
  EXPECT_TRUE(store->Delete("b").ok());
  EXPECT_EQ(store->Get("b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->stats().retries, 4);

  // Without a lost reply, a replayed create is still reported as not inserted.
  bool inserted = true;
  absl::StatusOr<TaskRecord> replay = store->InsertOrGet(
      MakeRecord("a2", "acme", 3000, qwenimage::v1::TASK_STATE_QUEUED, "req-a"), &inserted);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(inserted);
  EXPECT_EQ(replay->task.id(), "a");
}

TEST_F(PostgresTaskStoreTest, StatementTimeoutBoundsABlockedWrite) {
  PostgresTaskStore::Options options = Defaults();
  options.statement_timeout = absl::Milliseconds(300);
  std::unique_ptr<PostgresTaskStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  bool inserted = false;
  ASSERT_TRUE(store->InsertOrGet(MakeRecord("a", "acme", 1000), &inserted).ok());

  // Another session holds the row lock, so the UPDATE waits until the timeout cancels it.
  PGconn* locker = PQconnectdb(server_->SocketDsn(database_).c_str());
  ASSERT_EQ(PQstatus(locker), CONNECTION_OK) << PQerrorMessage(locker);
  for (const char* sql : {"BEGIN", "SELECT id FROM tasks WHERE id = 'a' FOR UPDATE"}) {
    PGresult* r = PQexec(locker, sql);
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQresultErrorMessage(r);
    PQclear(r);
  }
  TaskRecord a = MakeRecord("a", "acme", 1000, qwenimage::v1::TASK_STATE_RUNNING);
  absl::Status blocked = store->Update(a);
  EXPECT_EQ(blocked.code(), absl::StatusCode::kDeadlineExceeded) << blocked;
  EXPECT_THAT(blocked.message(), HasSubstr("57014"));
  // A timeout is not a lost connection: not retried, nothing written.
  EXPECT_EQ(store->stats().retries, 0);
  EXPECT_EQ(store->Get("a")->task.state(), qwenimage::v1::TASK_STATE_QUEUED);

  PQclear(PQexec(locker, "COMMIT"));
  PQfinish(locker);
  EXPECT_TRUE(store->Update(a).ok());
  EXPECT_EQ(store->Get("a")->task.state(), qwenimage::v1::TASK_STATE_RUNNING);
}

TEST_F(PostgresTaskStoreTest, PoolNeverOpensMoreThanItsSize) {
  PostgresTaskStore::Options options = Defaults();
  options.pool_size = 2;
  std::unique_ptr<PostgresTaskStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  bool inserted = false;
  ASSERT_TRUE(store->InsertOrGet(MakeRecord("a", "acme", 1000), &inserted).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(store->Get("a").ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  // The migration's own connection, then at most pool_size.
  EXPECT_LE(store->stats().connections_opened, 1 + options.pool_size);
  EXPECT_LE(Query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                  " AND application_name = 'qwen-image-gateway'")
                .size(),
            2u);
}

TEST_F(PostgresTaskStoreTest, EmptyDsnUsesTheLibpqEnvironment) {
  setenv("PGHOST", server_->dir().c_str(), 1);
  setenv("PGPORT", absl::StrCat(server_->port()).c_str(), 1);
  setenv("PGUSER", "postgres", 1);
  setenv("PGDATABASE", database_.c_str(), 1);
  PostgresTaskStore::Options options = Defaults();
  options.dsn = "";
  absl::StatusOr<std::unique_ptr<PostgresTaskStore>> store = PostgresTaskStore::Open(options);
  for (const char* name : {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE"}) unsetenv(name);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT((*store)->description(), HasSubstr(database_));
}

TEST_F(PostgresTaskStoreTest, PasswordNeverShows) {
  std::unique_ptr<PostgresTaskStore> store = OpenStore(Defaults());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->description(), HasSubstr(absl::StrCat(":", server_->port(), "/")));
  EXPECT_THAT(store->description(), Not(HasSubstr(testing::PostgresServer::kPassword)));

  PostgresTaskStore::Options missing_db = Defaults();
  missing_db.dsn = server_->Dsn("no_such_database");
  absl::StatusOr<std::unique_ptr<PostgresTaskStore>> failed = PostgresTaskStore::Open(missing_db);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("no_such_database"));
  EXPECT_THAT(failed.status().message(), Not(HasSubstr(testing::PostgresServer::kPassword)));

  PostgresTaskStore::Options wrong_password = Defaults();
  wrong_password.dsn = absl::StrCat("host=127.0.0.1 port=", server_->port(),
                                    " user=postgres password=wrong-secret-7d1e dbname=", database_);
  failed = PostgresTaskStore::Open(wrong_password);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(failed.status().message(), Not(HasSubstr("wrong-secret-7d1e")));
}

}  // namespace
}  // namespace qwenimage::store
