// Main: parses the global flags up to the command name, then hands the rest to the command.
// Every failure path returns an exit code; nothing here throws or aborts on bad input.
#include "client/cli/cli.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/flag_set.h"
#include "client/cli/invocation.h"

namespace qwenimage::cli {
namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(Invocation&);
};

constexpr Command kCommands[] = {
    {"generate", "create a task, wait for it and save its PNGs", RunGenerate},
    {"edit", "edit input images (files, https URLs, stored results) and save the PNGs", RunEdit},
    {"get", "show one task", RunGet},
    {"watch", "follow a task until it ends", RunWatch},
    {"cancel", "cancel a task", RunCancel},
    {"list", "list tasks, newest first", RunList},
    {"models", "show the model catalog", RunModels},
    {"download", "save a task's stored images", RunDownload},
};

std::string Usage() {
  std::string out =
      "Usage: qwen-image [global flags] COMMAND [flags]\n\n"
      "Generates images with Qwen-Image models through qwen-image-gateway.\n\nCommands:\n";
  for (const Command& c : kCommands) {
    std::string name = c.name;
    name.resize(12, ' ');
    absl::StrAppend(&out, "  ", name, c.summary, "\n");
  }
  absl::StrAppend(&out, "\n", kGlobalFlagsHelp, "\n", kExitCodesHelp,
                  "\nRun 'qwen-image COMMAND --help' for a command's flags.\n");
  return out;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  GlobalOptions options;
  FlagSet globals;
  AddGlobalFlags(&globals, &options);
  absl::Status parsed = globals.ParseUntilPositional(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "qwen-image: %s\n%s", std::string(parsed.message()).c_str(),
                 Usage().c_str());
    return kExitUsage;
  }
  const std::vector<std::string>& rest = globals.positional();
  if (rest.empty()) {
    if (globals.help_requested()) {
      std::fputs(Usage().c_str(), stdout);
      return kExitOk;
    }
    std::fprintf(stderr, "qwen-image: missing command\n%s", Usage().c_str());
    return kExitUsage;
  }
  for (const Command& c : kCommands) {
    if (rest[0] != c.name) continue;
    std::vector<std::string> command_args(rest.begin() + 1, rest.end());
    // "qwen-image --help get" asks for the command's help.
    if (globals.help_requested()) command_args.push_back("--help");
    Invocation inv(std::move(command_args), options);
    return c.run(inv);
  }
  if (rest[0] == "help") {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "qwen-image: unknown command '%s'\n%s", rest[0].c_str(), Usage().c_str());
  return kExitUsage;
}

}  // namespace qwenimage::cli
