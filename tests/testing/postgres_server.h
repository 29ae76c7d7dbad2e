// PostgresServer: a throwaway PostgreSQL cluster for tests — initdb in a temporary directory,
// `postgres` on 127.0.0.1 with a free port and its unix socket in that directory, stopped and
// removed on destruction. pg_stat_statements is preloaded, so tests can count what a database
// was asked. As root (CI) both run as the `postgres` user the Debian package
// creates, since PostgreSQL refuses to run as root.
#ifndef QWENIMAGE_TESTS_TESTING_POSTGRES_SERVER_H_
#define QWENIMAGE_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qwenimage::testing {

class PostgresServer {
 public:
  // The binaries: $QWENIMAGE_PG_BINDIR, else Debian's PostgreSQL 15.
  static std::string BinDir();
  // NOT_FOUND if initdb/postgres (or, as root, the postgres user) are missing; other errors
  // carry the tail of the server's log. The server is a child of the calling thread: it gets
  // SIGQUIT should that thread die without stopping it.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();  // fast shutdown, then the directory is removed

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // The superuser's TCP password (scram-sha-256); the unix socket trusts the superuser.
  static constexpr char kPassword[] = "pg-test-password-9f3c";

  // A libpq connection string for `database` over TCP, with the superuser's password.
  std::string Dsn(absl::string_view database) const;
  // The same over the unix socket, without a password.
  std::string SocketDsn(absl::string_view database) const;
  // A new, empty database named after the running test (unique per call); returns its name.
  absl::StatusOr<std::string> CreateDatabase();
  // Runs `sql` (one or more statements) as the superuser on `database`.
  absl::Status Exec(absl::string_view database, absl::string_view sql);
  // Runs `sql` like Exec and returns every row, its columns joined by '|' (text form).
  absl::StatusOr<std::vector<std::string>> Query(absl::string_view database, absl::string_view sql);

 private:
  PostgresServer() = default;
  absl::Status StartOnce(bool* port_taken);

  std::string dir_;  // owned by the server's user; data/ inside, and the socket
  std::string log_path_;
  uid_t uid_ = 0;  // run as (0 = stay who we are)
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  std::thread log_drain_;  // copies the server's stderr to log_path_ until it exits
  std::atomic<int> databases_{0};
};

// For a fixture's SetUp: the server shared by this test process (started on first use, stopped
// at exit). Without the binaries it records a skip (printing SKIP) and returns nullptr — or, when
// CI=true, a fatal failure; any other start failure is a fatal failure too.
PostgresServer* SharedPostgresServerOrSkip();

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_POSTGRES_SERVER_H_
