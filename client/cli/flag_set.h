// FlagSet: a small parser for one command's `--name=value` flags and positional arguments.
// Hand-rolled because absl flags are process-global and cannot scope flags per subcommand.
#ifndef QWENIMAGE_CLIENT_CLI_FLAG_SET_H_
#define QWENIMAGE_CLIENT_CLI_FLAG_SET_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::cli {

class FlagSet {
 public:
  // Every Add* call binds a flag to `target`, which must outlive Parse(). Optional targets stay
  // unset unless the flag is given, so that "not given" differs from any value.
  void AddString(absl::string_view name, std::string* target, absl::string_view help);
  void AddInt(absl::string_view name, int32_t* target, absl::string_view help);
  void AddOptionalInt(absl::string_view name, std::optional<int64_t>* target,
                      absl::string_view help);
  void AddBool(absl::string_view name, bool* target, absl::string_view help);
  void AddOptionalBool(absl::string_view name, std::optional<bool>* target,
                       absl::string_view help);
  void AddDuration(absl::string_view name, absl::Duration* target, absl::string_view help);
  // Repeatable; each value may also be a comma-separated list.
  void AddList(absl::string_view name, std::vector<std::string>* target, absl::string_view help);
  // Repeatable; each value is taken whole (paths and URLs may hold commas).
  void AddRepeated(absl::string_view name, std::vector<std::string>* target,
                   absl::string_view help);

  // Parses `args` (no program or command name). Flags and positional arguments may be mixed;
  // "--" ends the flags. Sets help_requested() for -h/--help. InvalidArgument on a bad flag.
  absl::Status Parse(const std::vector<std::string>& args);
  // Like Parse(), but stops at the first positional argument (a command name): it and everything
  // after it end up in positional() unparsed.
  absl::Status ParseUntilPositional(const std::vector<std::string>& args);

  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return help_requested_; }

  // One line per flag: "  --name=VALUE  help".
  std::string Describe() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // empty for booleans
    std::string help;
    std::function<absl::Status(absl::string_view)> set;
  };

  void Add(absl::string_view name, absl::string_view value_name, absl::string_view help,
           std::function<absl::Status(absl::string_view)> set);
  const Flag* Find(absl::string_view name) const;
  absl::Status ParseImpl(const std::vector<std::string>& args, bool stop_at_positional);

  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_FLAG_SET_H_
