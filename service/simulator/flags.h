// dashscope-sim's command-line flags (absl) turned into SimulatorOptions. Kept out of the
// simulator library so that embedding it (qwen-image-gateway --simulate) defines no flags.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_FLAGS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_FLAGS_H_

#include "absl/status/statusor.h"
#include "service/simulator/options.h"

namespace qwenimage::simulator {

// Reads every --flag of dashscope-sim (after absl::ParseCommandLine).
absl::StatusOr<SimulatorOptions> OptionsFromFlags();

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_FLAGS_H_
