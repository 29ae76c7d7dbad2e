// Invocation: one run of one CLI command — its arguments, the global options, the connection
// to the gateway and the output — with the shared flag parsing and error reporting.
#ifndef QWENIMAGE_CLIENT_CLI_INVOCATION_H_
#define QWENIMAGE_CLIENT_CLI_INVOCATION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli/flag_set.h"
#include "client/cli/output.h"
#include "grpcpp/grpcpp.h"
#include "qwenimage/v1/image_service.grpc.pb.h"

namespace qwenimage::cli {

struct GlobalOptions {
  std::string server = "localhost:50051";
  bool json = false;
  std::string tenant;
  absl::Duration timeout = absl::Seconds(30);
  // Sent as `authorization: Bearer <token>`; never printed. At most one of the two.
  std::string token;
  std::string token_file;  // the token is the file's contents without a trailing newline
  std::string tls_ca;      // PEM CA certificates: the channel is TLS; else plaintext
};

// Registers --server, --json, --tenant, --timeout, --token, --token_file and --tls_ca.
void AddGlobalFlags(FlagSet* flags, GlobalOptions* options);
extern const char kGlobalFlagsHelp[];

// What `COMMAND --help` prints.
struct CommandHelp {
  absl::string_view name;
  absl::string_view arguments;  // e.g. "TASK_ID"
  absl::string_view summary;
};

class Invocation {
 public:
  Invocation(std::vector<std::string> args, GlobalOptions options);

  // Parses the command's arguments with `flags` plus the global flags, expecting between
  // min_args and max_args positional arguments. Returns false when the command must stop:
  // exit_code() is then 0 after --help, 2 after a usage error (both already printed).
  bool ParseFlags(FlagSet& flags, const CommandHelp& help, size_t min_args, size_t max_args);
  const std::vector<std::string>& args() const { return positional_; }
  int exit_code() const { return exit_code_; }

  const GlobalOptions& options() const { return options_; }
  Output& out() { return *output_; }
  v1::ImageService::Stub& stub();
  // A context carrying the token and the tenant, with the --timeout deadline unless `wait`
  // (streams that last as long as the task).
  std::unique_ptr<grpc::ClientContext> NewContext(bool wait = false) const;

  // Prints `status` with its details and returns the matching exit code.
  int Fail(const grpc::Status& status);
  // Prints "qwen-image: <message>" and returns `code`.
  int Fail(absl::string_view message, int code);

 private:
  std::vector<std::string> raw_args_;
  std::vector<std::string> positional_;
  GlobalOptions options_;
  std::optional<Output> output_;
  // Reads --token_file and --tls_ca; errors name the flag and file, never the token.
  absl::Status LoadConnectionFiles();

  std::unique_ptr<v1::ImageService::Stub> stub_;
  std::string token_;   // resolved from --token or --token_file
  std::string ca_pem_;  // contents of --tls_ca
  int exit_code_ = 0;
};

}  // namespace qwenimage::cli

#endif  // QWENIMAGE_CLIENT_CLI_INVOCATION_H_
