// Redact: strips secrets from text bound for the logs — API keys (sk-...), bearer tokens and the
// query strings of URLs (signed OSS URLs carry their signature there).
#ifndef QWENIMAGE_SERVICE_LOGGING_REDACT_H_
#define QWENIMAGE_SERVICE_LOGGING_REDACT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace qwenimage::logging {

// `text` with every secret replaced by a marker ("sk-***", "Bearer ***", "?<redacted>").
std::string Redact(absl::string_view text);

// Prompts are user content: logged only when the operator opted in (--log_prompts).
void SetLogPrompts(bool enabled);
// `prompt` itself when prompts may be logged, else "<prompt: N bytes>".
std::string LoggablePrompt(absl::string_view prompt);

}  // namespace qwenimage::logging

#endif  // QWENIMAGE_SERVICE_LOGGING_REDACT_H_
