#include "bench/stats.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace qwenimage::bench {

absl::Duration Percentile(std::vector<absl::Duration>& samples, double q) {
  if (samples.empty()) return absl::ZeroDuration();
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

int64_t RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kb = 0;
    fields >> kb;
    return kb * 1024;
  }
  return 0;
}

absl::Duration CpuTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::ZeroDuration();
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  if (fields.size() < 13) return absl::ZeroDuration();
  int64_t utime = 0;
  int64_t stime = 0;
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state field (3).
  if (!absl::SimpleAtoi(fields[11], &utime) || !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
}

CpuMeter::CpuMeter(pid_t pid) : pid_(pid) { Restart(); }

void CpuMeter::Restart() {
  wall_start_ = absl::Now();
  cpu_start_ = CpuTime(pid_);
}

double CpuMeter::CoreFraction() const {
  absl::Duration wall = absl::Now() - wall_start_;
  if (wall <= absl::ZeroDuration()) return 0;
  return absl::FDivDuration(CpuTime(pid_) - cpu_start_, wall);
}

}  // namespace qwenimage::bench
