// qwen-image: the command-line client of qwen-image-gateway (see `qwen-image --help`).
// All logic lives in the qwenimage_cli library.
#include "client/cli/cli.h"

int main(int argc, char** argv) { return qwenimage::cli::Main(argc, argv); }
