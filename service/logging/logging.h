// Logging: the process-wide spdlog set-up — one JSON object per line for log collectors, or a
// human format on a terminal — with every message passed through Redact().
#ifndef QWENIMAGE_SERVICE_LOGGING_LOGGING_H_
#define QWENIMAGE_SERVICE_LOGGING_LOGGING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "spdlog/formatter.h"
#include "spdlog/spdlog.h"

namespace qwenimage::logging {

enum class LogFormat { kAuto, kJson, kText };

// "auto", "json" or "text".
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);
// "trace", "debug", "info", "warn", "error", "critical" or "off".
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(absl::string_view text);

// Makes `name` the default logger, writing to stderr in `format` (kAuto: text when stderr is a
// terminal, JSON otherwise) at `level`.
void SetUpLogging(const std::string& name, LogFormat format, spdlog::level::level_enum level);

// Moves the default logger's level `steps` towards trace (negative: towards error), clamped to
// trace..error; returns the new level. For SIGUSR1/SIGUSR2.
spdlog::level::level_enum StepLogLevel(int steps);

// Formatters, exposed for tests. JSON lines carry "time", "level", "logger", "msg", plus
// "task_id" from a "task <id>: ..." message and every " key=value" token of the message.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();
std::unique_ptr<spdlog::formatter> MakeTextFormatter();

}  // namespace qwenimage::logging

#endif  // QWENIMAGE_SERVICE_LOGGING_LOGGING_H_
