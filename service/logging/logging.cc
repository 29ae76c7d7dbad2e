#include "service/logging/logging.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "service/logging/redact.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace qwenimage::logging {
namespace {

bool IsFieldKey(absl::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(),
                                     [](char c) { return absl::ascii_islower(c) || c == '_'; });
}

// Adds the structured fields found in `msg` to `line`.
void AddFields(absl::string_view msg, nlohmann::json& line) {
  if (absl::ConsumePrefix(&msg, "task ")) {
    size_t colon = msg.find(':');
    if (colon != absl::string_view::npos && msg.substr(0, colon).find(' ') == msg.npos) {
      line["task_id"] = std::string(msg.substr(0, colon));
    }
  }
  for (absl::string_view token : absl::StrSplit(msg, ' ', absl::SkipEmpty())) {
    size_t eq = token.find('=');
    if (eq == absl::string_view::npos || !IsFieldKey(token.substr(0, eq))) continue;
    absl::string_view value = token.substr(eq + 1);
    double number = 0;
    if (absl::SimpleAtod(value, &number)) {
      line[std::string(token.substr(0, eq))] = number;
    } else {
      line[std::string(token.substr(0, eq))] = std::string(value);
    }
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text = Redact(absl::string_view(msg.payload.data(), msg.payload.size()));
    nlohmann::json line;
    line["time"] =
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(msg.time), absl::UTCTimeZone());
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    line["msg"] = text;
    AddFields(text, line);
    // Invalid UTF-8 is replaced rather than thrown on: a log line must never take the server down.
    std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.push_back('\n');
    dest.append(out.data(), out.data() + out.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter() : inner_("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v") {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text = Redact(absl::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg redacted = msg;
    redacted.payload = spdlog::string_view_t(text.data(), text.size());
    inner_.format(redacted, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter inner_;
};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "auto") return LogFormat::kAuto;
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_format must be auto, json or text, not \"", text, "\""));
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(absl::string_view text) {
  spdlog::level::level_enum level = spdlog::level::from_str(std::string(text));
  // from_str answers "off" for anything it does not know.
  if (level == spdlog::level::off && text != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_level must be trace, debug, info, warn, error, critical or off, not \"",
                     text, "\""));
  }
  return level;
}

void SetUpLogging(const std::string& name, LogFormat format, spdlog::level::level_enum level) {
  if (format == LogFormat::kAuto) {
    format = isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson;
  }
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_formatter(format == LogFormat::kJson ? MakeJsonFormatter() : MakeTextFormatter());
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
}

spdlog::level::level_enum StepLogLevel(int steps) {
  int level = static_cast<int>(spdlog::default_logger()->level()) - steps;
  level = std::clamp(level, static_cast<int>(spdlog::level::trace),
                     static_cast<int>(spdlog::level::err));
  auto result = static_cast<spdlog::level::level_enum>(level);
  spdlog::default_logger()->set_level(result);
  return result;
}

std::unique_ptr<spdlog::formatter> MakeJsonFormatter() { return std::make_unique<JsonFormatter>(); }

std::unique_ptr<spdlog::formatter> MakeTextFormatter() { return std::make_unique<TextFormatter>(); }

}  // namespace qwenimage::logging
