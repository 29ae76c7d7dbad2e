// The gateway end to end on PostgreSQL (--store=postgres with a DSN file) against a throwaway
// server: a task is created, watched to SUCCEEDED and still there, with its images, after the
// gateway restarts; and what the database is asked per task, counted with pg_stat_statements.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

class PostgresGatewayTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    server_ = SharedPostgresServerOrSkip();
    if (server_ == nullptr) return;
    absl::StatusOr<std::string> database = server_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    ASSERT_TRUE(server_->Exec(database_, "CREATE EXTENSION pg_stat_statements").ok());
    std::filesystem::create_directories(data_dir_);
    const std::string dsn_file = data_dir_ + "/postgres.dsn";
    std::ofstream(dsn_file) << server_->Dsn(database_) << "\n";
    options_.store = "postgres";
    options_.postgres_dsn_file = dsn_file;
    options_.postgres_pool_size = 2;
  }

  // Statements this database ran since the last reset, as (calls, normalised query).
  std::vector<std::pair<int64_t, std::string>> Statements() {
    absl::StatusOr<std::vector<std::string>> rows = server_->Query(
        database_,
        "SELECT s.calls, s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
        " WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%'"
        " ORDER BY s.calls DESC, s.query");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<std::pair<int64_t, std::string>> out;
    for (const std::string& row : rows.ok() ? *rows : std::vector<std::string>()) {
      std::pair<std::string, std::string> parts = absl::StrSplit(row, absl::MaxSplits('|', 1));
      int64_t calls = 0;
      EXPECT_TRUE(absl::SimpleAtoi(parts.first, &calls)) << row;
      out.emplace_back(calls, parts.second);
    }
    return out;
  }

  void ResetStatements() {
    ASSERT_TRUE(server_->Exec(database_, "SELECT pg_stat_statements_reset()").ok());
  }

  // Runs one task of `model` to its end and reports the statements it cost; returns how many
  // INSERTs and UPDATEs of tasks it took.
  std::pair<int64_t, int64_t> CountOneTask(const std::string& model) {
    ResetStatements();
    v1::Task task = Create(Spec(model));
    std::vector<v1::Task> events = WatchToEnd(task.id());
    EXPECT_FALSE(events.empty());
    if (!events.empty()) {
      EXPECT_EQ(events.back().state(), v1::TASK_STATE_SUCCEEDED);
    }
    int64_t inserts = 0, updates = 0, total = 0;
    std::cout << "statements for one " << model << " task:\n";
    for (const auto& [calls, query] : Statements()) {
      std::cout << "  " << calls << "  " << query << "\n";
      total += calls;
      if (absl::StartsWith(query, "INSERT INTO tasks")) inserts += calls;
      if (absl::StartsWith(query, "UPDATE tasks")) updates += calls;
    }
    std::cout << "  total " << total << std::endl;
    return {inserts, updates};
  }

  PostgresServer* server_ = nullptr;
  std::string database_;
};

TEST_F(PostgresGatewayTest, TaskSurvivesARestartOnPostgres) {
  StartGateway();
  v1::Task task = Create(Spec("qwen-image-plus"), "pg-e2e-1");
  std::vector<v1::Task> events = WatchToEnd(task.id());
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().state(), v1::TASK_STATE_SUCCEEDED);
  ASSERT_EQ(events.back().images_size(), 1);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 1);
  // The row is in PostgreSQL, and no SQLite file was made.
  absl::StatusOr<std::vector<std::string>> rows = server_->Query(
      database_, "SELECT state, upstream_task_id <> '' FROM tasks WHERE id = '" + task.id() + "'");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, std::vector<std::string>{"4|t"});
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/tasks.db"));

  stub_.reset();
  gateway_.reset();
  StartGateway();
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  v1::Task stored;
  grpc::Status s = stub_->GetTask(Context().get(), get, &stored);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stored.state(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_EQ(stored.images_size(), 1);
  v1::Image image;
  EXPECT_FALSE(ReadImage(task.id(), 0, &image).empty());
  // The idempotent create is remembered across the restart.
  EXPECT_EQ(Create(Spec("qwen-image-plus"), "pg-e2e-1").id(), task.id());
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).async_creates, 0);
}

TEST_F(PostgresGatewayTest, StatementsPerTask) {
  StartGateway();
  // One INSERT per task (the create); the rest are UPDATEs of its row, one per state change, and
  // SETs of synchronous_commit around relaxed writes (README: what the database sees per task).
  for (const char* model : {"qwen-image-plus", "qwen-image-max"}) {
    const auto [inserts, updates] = CountOneTask(model);
    EXPECT_EQ(inserts, 1) << model;
    EXPECT_GE(updates, 1) << model;
  }
}

}  // namespace
}  // namespace qwenimage::testing
