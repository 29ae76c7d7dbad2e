// Invocation: flag parsing with --help and usage errors, the lazily created channel, and
// status reporting shared by every command.
#include "client/cli/invocation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/cli/exit_codes.h"
#include "client/cli/status_format.h"

namespace qwenimage::cli {

const char kGlobalFlagsHelp[] =
    "Global flags (before or after the command):\n"
    "  --server=HOST:PORT          gateway address (default localhost:50051)\n"
    "  --json                      print results as proto canonical JSON, one document per line\n"
    "  --tenant=STRING             tenant, sent as metadata x-qwenimage-tenant\n"
    "  --timeout=DURATION          deadline of each unary call (default 30s; waits are unbounded)\n";

void AddGlobalFlags(FlagSet* flags, GlobalOptions* options) {
  flags->AddString("server", &options->server, "gateway address");
  flags->AddBool("json", &options->json, "canonical JSON output");
  flags->AddString("tenant", &options->tenant, "tenant (x-qwenimage-tenant)");
  flags->AddDuration("timeout", &options->timeout, "deadline of each unary call");
}

Invocation::Invocation(std::vector<std::string> args, GlobalOptions options)
    : raw_args_(std::move(args)), options_(std::move(options)) {}

bool Invocation::ParseFlags(FlagSet& flags, const CommandHelp& help, size_t min_args,
                            size_t max_args) {
  const std::string command_flags = flags.Describe();
  AddGlobalFlags(&flags, &options_);
  absl::Status parsed = flags.Parse(raw_args_);
  output_.emplace(Output::ForStdio(options_.json));
  std::string usage = absl::StrCat("Usage: qwen-image [global flags] ", help.name,
                                   help.arguments.empty() ? "" : " ", help.arguments,
                                   " [flags]\n\n", help.summary, "\n");
  if (flags.help_requested()) {
    std::printf("%s\n%s%s\n%s\n%s", usage.c_str(), command_flags.empty() ? "" : "Flags:\n",
                command_flags.c_str(), kGlobalFlagsHelp, kExitCodesHelp);
    exit_code_ = kExitOk;
    return false;
  }
  positional_ = flags.positional();
  if (parsed.ok() && (positional_.size() < min_args || positional_.size() > max_args)) {
    parsed = absl::InvalidArgumentError(
        positional_.size() < min_args
            ? absl::StrCat("missing argument ", help.arguments)
            : absl::StrCat("unexpected argument '", positional_[max_args], "'"));
  }
  if (!parsed.ok()) {
    exit_code_ = Fail(absl::StrCat(parsed.message(), "\n", usage,
                                   "Run 'qwen-image ", help.name, " --help' for the flags."),
                      kExitUsage);
    return false;
  }
  return true;
}

v1::ImageService::Stub& Invocation::stub() {
  if (stub_ == nullptr) {
    stub_ = v1::ImageService::NewStub(
        grpc::CreateChannel(options_.server, grpc::InsecureChannelCredentials()));
  }
  return *stub_;
}

std::unique_ptr<grpc::ClientContext> Invocation::NewContext(bool wait) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!options_.tenant.empty()) ctx->AddMetadata("x-qwenimage-tenant", options_.tenant);
  if (!wait && options_.timeout > absl::ZeroDuration()) {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  }
  return ctx;
}

int Invocation::Fail(const grpc::Status& status) {
  output_->Error(FormatStatus(status));
  return ExitCodeFor(status.error_code());
}

int Invocation::Fail(absl::string_view message, int code) {
  output_->Error(absl::StrCat("qwen-image: ", message));
  return code;
}

}  // namespace qwenimage::cli
