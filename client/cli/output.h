// Output: where the CLI writes results — canonical-JSON lines with --json, concise human lines
// otherwise, and a self-overwriting progress line when stdout is a terminal.
#ifndef QWENIMAGE_CLIENT_CLI_OUTPUT_H_
#define QWENIMAGE_CLIENT_CLI_OUTPUT_H_

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace qwenimage::cli {

class Output {
 public:
  Output(bool json, std::FILE* out, std::FILE* err, bool tty);
  // Writes to stdout/stderr; tty from isatty(stdout).
  static Output ForStdio(bool json);

  bool json() const { return json_; }
  bool tty() const { return tty_; }

  // One JSON document on one line (proto3 canonical JSON mapping).
  void Json(const google::protobuf::Message& message);
  // One line of human output (a newline is appended).
  void Line(absl::string_view text);
  // Replaces the current progress line (TTY only; ignored otherwise).
  void Progress(absl::string_view text);
  // Ends a pending progress line so the next output starts on a fresh line.
  void EndProgress();
  // Writes to stderr, ending any progress line first.
  void Error(absl::string_view text);

 private:
  bool json_;
  std::FILE* out_;
  std::FILE* err_;
  bool tty_;
  bool progress_open_ = false;
};

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_OUTPUT_H_
