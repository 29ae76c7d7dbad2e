// BenchPostgres: the one throwaway PostgreSQL server of a bench run (tests/testing/
// postgres_server.h: initdb + postgres on loopback, as the `postgres` user when root), started
// when the first scenario asks for a database and stopped when the run ends. Each scenario
// environment gets a database of its own.
#ifndef QWENIMAGE_BENCH_POSTGRES_H_
#define QWENIMAGE_BENCH_POSTGRES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/postgres_server.h"

namespace qwenimage::bench {

class BenchPostgres {
 public:
  // Creates a new, empty database and returns its libpq DSN (TCP, with the superuser's
  // password). The first call starts the server; if that failed, this and every later call
  // return why (the server is tried once per run).
  absl::StatusOr<std::string> NewDatabaseDsn();
  // Whether the server was tried and did not start: the run cannot go on with --store=postgres.
  bool start_failed() const { return tried_ && server_ == nullptr; }

 private:
  bool tried_ = false;
  absl::Status start_status_;
  std::unique_ptr<testing::PostgresServer> server_;
};

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_POSTGRES_H_
