// Test helper: a registry (or any collectable) rendered in the Prometheus text format, and the
// value of one series in it.
#ifndef QWENIMAGE_TESTS_TESTING_METRICS_TEXT_H_
#define QWENIMAGE_TESTS_TESTING_METRICS_TEXT_H_

#include <optional>
#include <sstream>
#include <string>

#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"

namespace qwenimage::testing {

inline std::string MetricsText(const prometheus::Collectable& c) {
  return prometheus::TextSerializer().Serialize(c.Collect());
}

// The value of the sample line starting with `series` (name plus labels as exposed, e.g.
// `x_total{model="m"}`), or nullopt.
inline std::optional<double> SampleValue(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_METRICS_TEXT_H_
