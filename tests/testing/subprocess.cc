#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace qwenimage::testing {

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& log_path) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  // `env` overrides inherited variables of the same name.
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const std::string& o : env) overridden |= o.rfind(name + "=", 0) == 0;
    if (!overridden) envs.push_back(std::move(entry));
  }
  envs.insert(envs.end(), env.begin(), env.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args, envp;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const std::string& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  stdout_fd_ = out[0];
}

Subprocess::~Subprocess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

int Subprocess::WaitForNumberAfter(const std::string& marker) {
  for (;;) {
    size_t at = buffered_.find(marker);
    if (at != std::string::npos) {
      size_t start = at + marker.size();
      size_t end = buffered_.find('\n', start);
      if (end != std::string::npos) {
        int value = std::atoi(buffered_.substr(start, end - start).c_str());
        buffered_.erase(0, end + 1);
        return value;
      }
    }
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));  // blocks until output or EOF
    if (n <= 0) return -1;
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

void Subprocess::Signal(int sig) {
  if (!exited_) kill(pid_, sig);
}

int Subprocess::Wait() {
  if (exited_) return exit_code_;
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

}  // namespace qwenimage::testing
