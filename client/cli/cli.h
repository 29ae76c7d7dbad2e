// Entry point of the qwen-image CLI: global flags, command dispatch and top-level usage.
// main() only forwards to Main() so that everything else lives in a testable library.
#ifndef QWENIMAGE_CLIENT_CLI_CLI_H_
#define QWENIMAGE_CLIENT_CLI_CLI_H_

namespace qwenimage::cli {

int Main(int argc, char** argv);

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_CLI_H_
