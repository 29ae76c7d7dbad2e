// Output: JSON via MessageToJsonString, human lines, and the TTY progress line (carriage
// return plus erase-to-end-of-line so a shorter line leaves no residue).
#include "client/cli/output.h"

#include <unistd.h>

#include "google/protobuf/util/json_util.h"

namespace qwenimage::cli {

Output::Output(bool json, std::FILE* out, std::FILE* err, bool tty)
    : json_(json), out_(out), err_(err), tty_(tty) {}

Output Output::ForStdio(bool json) {
  return Output(json, stdout, stderr, isatty(STDOUT_FILENO) == 1);
}

void Output::Json(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) text = "{}";
  Line(text);
}

void Output::Line(absl::string_view text) {
  EndProgress();
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Output::Progress(absl::string_view text) {
  if (!tty_) return;
  std::fputs("\r", out_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fputs("\x1b[K", out_);
  std::fflush(out_);
  progress_open_ = true;
}

void Output::EndProgress() {
  if (!progress_open_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  progress_open_ = false;
}

void Output::Error(absl::string_view text) {
  EndProgress();
  std::fwrite(text.data(), 1, text.size(), err_);
  if (text.empty() || text.back() != '\n') std::fputc('\n', err_);
  std::fflush(err_);
}

}  // namespace qwenimage::cli
