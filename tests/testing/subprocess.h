// Subprocess: runs a binary with arguments and environment, captures the first stdout line that
// names a port, and kills it on destruction. For tests that restart or signal a real process.
#ifndef QWENIMAGE_TESTS_TESTING_SUBPROCESS_H_
#define QWENIMAGE_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace qwenimage::testing {

class Subprocess {
 public:
  // Starts `argv[0]` with `argv`, adding `env` ("NAME=value") to the environment. stderr goes
  // to `log_path` (appended).
  Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& log_path);
  ~Subprocess();  // SIGKILL if still running

  // Blocks until the child prints a line containing `marker` followed by a number; returns the
  // number (e.g. marker "listening on port "), or -1 if the child exits first.
  int WaitForNumberAfter(const std::string& marker);
  void Signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed).
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  bool exited_ = false;
  int exit_code_ = 0;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_SUBPROCESS_H_
