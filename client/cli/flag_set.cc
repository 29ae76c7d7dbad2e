// FlagSet: parsing of `--name=value`, `--name value` and `--bool[=true|false]` forms, plus
// usage text generation.
#include "client/cli/flag_set.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qwenimage::cli {
namespace {

absl::Status BadValue(absl::string_view name, absl::string_view value, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", value, "' for --", name, ": expected ", want));
}

absl::Status ParseBoolValue(absl::string_view name, absl::string_view value, bool* out) {
  if (value == "true" || value == "1" || value == "yes") {
    *out = true;
  } else if (value == "false" || value == "0" || value == "no") {
    *out = false;
  } else {
    return BadValue(name, value, "true or false");
  }
  return absl::OkStatus();
}

}  // namespace

void FlagSet::Add(absl::string_view name, absl::string_view value_name, absl::string_view help,
                  std::function<absl::Status(absl::string_view)> set) {
  flags_.push_back({std::string(name), std::string(value_name), std::string(help), std::move(set)});
}

void FlagSet::AddString(absl::string_view name, std::string* target, absl::string_view help) {
  Add(name, "STRING", help, [target](absl::string_view v) {
    *target = std::string(v);
    return absl::OkStatus();
  });
}

void FlagSet::AddInt(absl::string_view name, int32_t* target, absl::string_view help) {
  std::string n(name);
  Add(name, "INT", help, [n, target](absl::string_view v) {
    return absl::SimpleAtoi(v, target) ? absl::OkStatus() : BadValue(n, v, "an integer");
  });
}

void FlagSet::AddOptionalInt(absl::string_view name, std::optional<int64_t>* target,
                             absl::string_view help) {
  std::string n(name);
  Add(name, "INT", help, [n, target](absl::string_view v) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(v, &value)) return BadValue(n, v, "an integer");
    *target = value;
    return absl::OkStatus();
  });
}

void FlagSet::AddBool(absl::string_view name, bool* target, absl::string_view help) {
  std::string n(name);
  Add(name, "", help,
      [n, target](absl::string_view v) { return ParseBoolValue(n, v, target); });
}

void FlagSet::AddOptionalBool(absl::string_view name, std::optional<bool>* target,
                              absl::string_view help) {
  std::string n(name);
  Add(name, "", help, [n, target](absl::string_view v) {
    bool value = false;
    absl::Status s = ParseBoolValue(n, v, &value);
    if (s.ok()) *target = value;
    return s;
  });
}

void FlagSet::AddDuration(absl::string_view name, absl::Duration* target,
                          absl::string_view help) {
  std::string n(name);
  Add(name, "DURATION", help, [n, target](absl::string_view v) {
    return absl::ParseDuration(v, target) ? absl::OkStatus()
                                          : BadValue(n, v, "a duration such as 30s or 1m");
  });
}

void FlagSet::AddList(absl::string_view name, std::vector<std::string>* target,
                      absl::string_view help) {
  Add(name, "A,B,...", help, [target](absl::string_view v) {
    for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipEmpty())) {
      target->emplace_back(item);
    }
    return absl::OkStatus();
  });
}

void FlagSet::AddRepeated(absl::string_view name, std::vector<std::string>* target,
                          absl::string_view help) {
  Add(name, "VALUE", help, [target](absl::string_view v) {
    target->emplace_back(v);
    return absl::OkStatus();
  });
}

const FlagSet::Flag* FlagSet::Find(absl::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  return ParseImpl(args, /*stop_at_positional=*/false);
}

absl::Status FlagSet::ParseUntilPositional(const std::vector<std::string>& args) {
  return ParseImpl(args, /*stop_at_positional=*/true);
}

absl::Status FlagSet::ParseImpl(const std::vector<std::string>& args, bool stop_at_positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      help_requested_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      if (stop_at_positional) {
        positional_.insert(positional_.end(), args.begin() + i, args.end());
        break;
      }
      positional_.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    std::optional<absl::string_view> value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Flag* flag = Find(arg);
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg));
    if (!value.has_value()) {
      if (flag->value_name.empty()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", arg, " needs a value"));
      }
    }
    if (absl::Status s = flag->set(*value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FlagSet::Describe() const {
  std::string out;
  for (const Flag& f : flags_) {
    std::string left = absl::StrCat("  --", f.name, f.value_name.empty() ? "[=BOOL]" : "=",
                                    f.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    absl::StrAppend(&out, left, " ", f.help, "\n");
  }
  return out;
}

}  // namespace qwenimage::cli
