// Latency percentiles and /proc readings (RSS, CPU time) of a process: the raw figures every
// scenario reports.
#ifndef QWENIMAGE_BENCH_STATS_H_
#define QWENIMAGE_BENCH_STATS_H_

#include <sys/types.h>

#include <vector>

#include "absl/time/time.h"

namespace qwenimage::bench {

// The q-quantile (0..1) of `samples` by nearest rank; zero when empty. Sorts `samples`.
absl::Duration Percentile(std::vector<absl::Duration>& samples, double q);

// Resident set size of `pid` in bytes (VmRSS), 0 if unreadable.
int64_t RssBytes(pid_t pid);
// User + system CPU time `pid` has used so far.
absl::Duration CpuTime(pid_t pid);

// CPU use of a process over an interval, as a fraction of one core.
class CpuMeter {
 public:
  explicit CpuMeter(pid_t pid);
  // Fraction of one core used since construction (or the last Restart).
  double CoreFraction() const;
  void Restart();

 private:
  pid_t pid_;
  absl::Time wall_start_;
  absl::Duration cpu_start_;
};

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_STATS_H_
