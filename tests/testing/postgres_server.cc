#include "tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace qwenimage::testing {
namespace {

constexpr char kReady[] = "database system is ready to accept connections";
constexpr char kPortTaken[] = "Address already in use";

// Who to run as: as root, the `postgres` user (PostgreSQL refuses root).
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Forks and execs `argv` as `as`, with stdout and stderr on `out_fd` and no other inherited
// descriptor. With `die_with_parent`, the child gets SIGQUIT (immediate shutdown) if the calling
// thread dies first.
pid_t Spawn(const std::vector<std::string>& argv, const RunAs& as, const std::string& cwd,
            int out_fd, bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls from here on.
  if (as.switch_user) {
    if (setgroups(1, &as.gid) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0) _exit(126);
  }
  // After the uid change, which would clear it.
  if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)) {
    _exit(125);
  }
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  // gRPC listeners and the like must not live on in the server.
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 1024; ++fd) close(fd);
  }
  if (chdir(cwd.c_str()) != 0) _exit(124);
  execv(args[0], args.data());
  _exit(127);
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

absl::StatusOr<int> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return absl::InternalError("bind to port 0 failed");
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Tail(const std::string& text) {
  return text.size() <= 2000 ? text : text.substr(text.size() - 2000);
}

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string Quoted(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && absl::AsciiStrToLower(ci) == "true";
}

void RecordSkip(const std::string& why) { GTEST_SKIP() << why; }
void RecordFailure(const std::string& why) { FAIL() << why; }

}  // namespace

std::string PostgresServer::BinDir() {
  const char* dir = std::getenv("QWENIMAGE_PG_BINDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  const std::string bin = BinDir();
  for (const char* tool : {"initdb", "postgres"}) {
    if (!IsExecutable(bin + "/" + tool)) {
      return absl::NotFoundError(absl::StrCat(bin, "/", tool,
                                              " not found (install Debian's postgresql, or set "
                                              "QWENIMAGE_PG_BINDIR)"));
    }
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  RunAs as;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::NotFoundError("running as root and there is no postgres user to run as");
    }
    as = RunAs{true, pw->pw_uid, pw->pw_gid};
  }
  server->uid_ = as.uid;
  server->gid_ = as.gid;

  // The postgres user must reach the directory: gtest's TempDir may be under a private home.
  const std::filesystem::path parent = as.switch_user ? "/tmp" : ::testing::TempDir();
  std::string templ = (parent / "qwenimage_pg_XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  server->dir_ = templ;
  server->log_path_ = server->dir_ + "/server.log";
  const std::string pwfile = server->dir_ + "/pwfile";
  { std::ofstream(pwfile) << kPassword << "\n"; }
  for (const std::string& path : {server->dir_, pwfile}) {
    if (as.switch_user && chown(path.c_str(), as.uid, as.gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", path, ": ", std::strerror(errno)));
    }
  }
  chmod(server->dir_.c_str(), 0700);
  chmod(pwfile.c_str(), 0600);

  // -N: no fsync of the new cluster; tests do not survive power loss anyway.
  const int log = open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return absl::InternalError("cannot open the server log");
  const pid_t initdb = Spawn(
      {bin + "/initdb", "-D", server->dir_ + "/data", "-U", "postgres", "-E", "UTF8", "--no-locale",
       "-N", "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile},
      as, server->dir_, log, /*die_with_parent=*/true);
  close(log);
  if (initdb < 0) return absl::InternalError("fork failed");
  if (const int rc = WaitExit(initdb); rc != 0) {
    return absl::InternalError(
        absl::StrCat("initdb exited ", rc, ":\n", Tail(ReadFile(server->log_path_))));
  }
  // A port picked free may be taken again before postgres binds it: pick another.
  for (int attempt = 0;; ++attempt) {
    bool port_taken = false;
    absl::Status started = server->StartOnce(&port_taken);
    if (started.ok()) return server;
    if (!port_taken || attempt == 4) return started;
  }
}

absl::Status PostgresServer::StartOnce(bool* port_taken) {
  absl::StatusOr<int> port = PickFreePort();
  if (!port.ok()) return port.status();
  port_ = *port;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  RunAs as{geteuid() == 0, uid_, gid_};
  // fsync off and a small footprint: a test cluster, rebuilt for every test process.
  pid_ = Spawn({BinDir() + "/postgres",
                "-D",
                dir_ + "/data",
                "-p",
                absl::StrCat(port_),
                "-k",
                dir_,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=on",
                "-c",
                "shared_buffers=16MB",
                "-c",
                "max_connections=100",
                "-c",
                "shared_preload_libraries=pg_stat_statements"},
               as, dir_, out[1], /*die_with_parent=*/true);
  close(out[1]);
  if (pid_ < 0) {
    close(out[0]);
    return absl::InternalError("fork failed");
  }
  const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // Read the server's output until it says it is ready (or exits).
  std::string seen;
  char chunk[4096];
  for (;;) {
    const ssize_t n = read(out[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log >= 0) (void)!write(log, chunk, static_cast<size_t>(n));
    seen.append(chunk, static_cast<size_t>(n));
    if (seen.find(kReady) != std::string::npos) {
      // Keep draining, or the server would block once the pipe is full.
      log_drain_ = std::thread([fd = out[0], log] {
        char buf[4096];
        for (;;) {
          const ssize_t m = read(fd, buf, sizeof(buf));
          if (m < 0 && errno == EINTR) continue;
          if (m <= 0) break;
          if (log >= 0) (void)!write(log, buf, static_cast<size_t>(m));
        }
        close(fd);
        if (log >= 0) close(log);
      });
      return absl::OkStatus();
    }
  }
  close(out[0]);
  if (log >= 0) close(log);
  const int rc = WaitExit(pid_);
  pid_ = -1;
  *port_taken = seen.find(kPortTaken) != std::string::npos;
  return absl::UnavailableError(
      absl::StrCat("postgres exited ", rc, " before it was ready:\n", Tail(seen)));
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown: disconnects clients, then exits
    WaitExit(pid_);
  }
  if (log_drain_.joinable()) log_drain_.join();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string PostgresServer::Dsn(absl::string_view database) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=postgres password=", kPassword,
                      " dbname=", Quoted(database));
}

std::string PostgresServer::SocketDsn(absl::string_view database) const {
  return absl::StrCat("host=", Quoted(dir_), " port=", port_,
                      " user=postgres dbname=", Quoted(database));
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  std::string name = absl::StrCat("t", getpid(), "_", databases_.fetch_add(1));
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    absl::StrAppend(&name, "_", info->name());
  }
  for (char& c : name)
    c = std::isalnum(static_cast<unsigned char>(c)) ? absl::ascii_tolower(c) : '_';
  name.resize(std::min<size_t>(name.size(), 63));
  if (absl::Status s = Exec("postgres", absl::StrCat("CREATE DATABASE \"", name, "\"")); !s.ok()) {
    return s;
  }
  return name;
}

absl::Status PostgresServer::Exec(absl::string_view database, absl::string_view sql) {
  return Query(database, sql).status();
}

absl::StatusOr<std::vector<std::string>> PostgresServer::Query(absl::string_view database,
                                                               absl::string_view sql) {
  PGconn* conn = PQconnectdb(SocketDsn(database).c_str());
  absl::StatusOr<std::vector<std::string>> rows = std::vector<std::string>();
  if (PQstatus(conn) != CONNECTION_OK) {
    rows = absl::UnavailableError(absl::StrCat("connect: ", PQerrorMessage(conn)));
  } else {
    PGresult* r = PQexec(conn, std::string(sql).c_str());
    const ExecStatusType rc = PQresultStatus(r);
    if (rc != PGRES_COMMAND_OK && rc != PGRES_TUPLES_OK) {
      rows = absl::InternalError(absl::StrCat("exec: ", PQresultErrorMessage(r)));
    } else {
      for (int i = 0; i < PQntuples(r); ++i) {
        std::string row;
        for (int j = 0; j < PQnfields(r); ++j) {
          absl::StrAppend(&row, j == 0 ? "" : "|", PQgetvalue(r, i, j));
        }
        rows->push_back(std::move(row));
      }
    }
    PQclear(r);
  }
  PQfinish(conn);
  return rows;
}

PostgresServer* SharedPostgresServerOrSkip() {
  // Destroyed at exit, which stops the server.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  if (server.ok()) return server->get();
  if (absl::IsNotFound(server.status()) && !InCi()) {
    const std::string why = absl::StrCat("PostgreSQL unavailable: ", server.status().message());
    std::cout << "SKIP: " << why << std::endl;
    RecordSkip(why);
    return nullptr;
  }
  RecordFailure(absl::StrCat("PostgreSQL test server: ", server.status().ToString()));
  return nullptr;
}

}  // namespace qwenimage::testing
