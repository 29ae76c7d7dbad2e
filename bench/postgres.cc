#include "bench/postgres.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace qwenimage::bench {

absl::StatusOr<std::string> BenchPostgres::NewDatabaseDsn() {
  if (!tried_) {
    tried_ = true;
    absl::StatusOr<std::unique_ptr<testing::PostgresServer>> started =
        testing::PostgresServer::Start();
    if (started.ok()) {
      server_ = *std::move(started);
    } else {
      start_status_ =
          absl::Status(started.status().code(),
                       absl::StrCat("PostgreSQL did not start: ", started.status().message()));
    }
  }
  if (server_ == nullptr) return start_status_;
  absl::StatusOr<std::string> database = server_->CreateDatabase();
  if (!database.ok()) return database.status();
  return server_->Dsn(*database);
}

}  // namespace qwenimage::bench
