// Process hardening for a process that holds secrets (the DashScope key, bearer-token hashes,
// store credentials): no core dumps, no ptrace or /proc/<pid>/mem reads by other users, and a
// secret taken from the environment leaves no copy there.
#ifndef QWENIMAGE_SERVICE_SERVER_PROCESS_HARDENING_H_
#define QWENIMAGE_SERVICE_SERVER_PROCESS_HARDENING_H_

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace qwenimage::server {

// Core dumps off (RLIMIT_CORE 0) and the process non-dumpable (PR_SET_DUMPABLE 0: only root may
// ptrace it or read its /proc memory and environment).
absl::Status HardenProcess();

// The value of environment variable `name`, then erased: its bytes in the environment block
// are overwritten (so /proc/<pid>/environ no longer shows it) and the variable unset, so that
// nothing started later inherits it. nullopt if unset.
std::optional<std::string> TakeSecretFromEnvironment(const char* name);

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_PROCESS_HARDENING_H_
