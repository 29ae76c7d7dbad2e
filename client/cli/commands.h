// The qwen-image commands. Each parses its own flags through the Invocation and returns the
// process exit code (see exit_codes.h).
#ifndef QWENIMAGE_CLIENT_CLI_COMMANDS_H_
#define QWENIMAGE_CLIENT_CLI_COMMANDS_H_

#include "client/cli/invocation.h"

namespace qwenimage::cli {

int RunGenerate(Invocation& inv);
int RunEdit(Invocation& inv);
int RunGet(Invocation& inv);
int RunWatch(Invocation& inv);
int RunCancel(Invocation& inv);
int RunList(Invocation& inv);
int RunModels(Invocation& inv);
int RunDownload(Invocation& inv);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_COMMANDS_H_
