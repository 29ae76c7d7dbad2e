// dashscope-sim: the DashScope simulator as its own process, configured by flags (see --help),
// serving until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "service/simulator/flags.h"
#include "service/simulator/simulator.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "DashScope Qwen-Image simulator: serves the sync/async image APIs, task APIs, signed PNG "
      "URLs, GET /__stats and POST /__reset, /__keys/revoke?key=, /__keys/add?key=.\n"
      "Prompt markers: [sim:fail=<Code>] [sim:moderation] [sim:status=<N>] "
      "[sim:task_fail=<Code>] [sim:partial=<k>] [sim:slow=<dur>] [sim:malformed] [sim:reset] "
      "[sim:hang]");
  absl::FlagsUsageConfig usage;
  // --help lists the simulator's flags (they live in flags.cc, not in a file named after the binary).
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "service/simulator/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<qwenimage::simulator::SimulatorOptions> options =
      qwenimage::simulator::OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "dashscope-sim: %s\n", options.status().ToString().c_str());
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the loop thread exists: it inherits it
  signal(SIGPIPE, SIG_IGN);

  auto sim = qwenimage::simulator::Simulator::Start(*std::move(options));
  if (!sim.ok()) {
    std::fprintf(stderr, "dashscope-sim: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::printf("dashscope-sim listening: base url %s\n", (*sim)->base_url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}
