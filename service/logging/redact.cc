#include "service/logging/redact.h"

#include <atomic>
#include <regex>

#include "absl/strings/str_cat.h"

namespace qwenimage::logging {
namespace {

std::atomic<bool> log_prompts{false};

struct Rule {
  std::regex pattern;
  const char* replacement;
};

const std::vector<Rule>& Rules() {
  static const auto* const kRules = new std::vector<Rule>{
      {std::regex(R"(sk-[A-Za-z0-9_\-]+)"), "sk-***"},
      {std::regex(R"((Bearer|bearer|BEARER)\s+[^\s"',;]+)"), "$1 ***"},
      {std::regex(R"(((?:https?|oss)://[^\s?"'<>]*)\?[^\s"'<>]*)"), "$1?<redacted>"},
  };
  return *kRules;
}

}  // namespace

std::string Redact(absl::string_view text) {
  std::string out(text);
  // Cheap pre-checks keep the regexes off the common path.
  if (out.find("sk-") == std::string::npos && out.find("earer") == std::string::npos &&
      out.find("EARER") == std::string::npos && out.find('?') == std::string::npos) {
    return out;
  }
  for (const Rule& rule : Rules()) out = std::regex_replace(out, rule.pattern, rule.replacement);
  return out;
}

void SetLogPrompts(bool enabled) { log_prompts.store(enabled, std::memory_order_relaxed); }

std::string LoggablePrompt(absl::string_view prompt) {
  if (log_prompts.load(std::memory_order_relaxed)) return std::string(prompt);
  return absl::StrCat("<prompt: ", prompt.size(), " bytes>");
}

}  // namespace qwenimage::logging
