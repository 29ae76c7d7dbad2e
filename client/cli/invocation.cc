// Invocation: flag parsing with --help and usage errors, the lazily created channel, and
// status reporting shared by every command.
#include "client/cli/invocation.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/exit_codes.h"
#include "client/cli/status_format.h"

namespace qwenimage::cli {

const char kGlobalFlagsHelp[] =
    "Global flags (before or after the command):\n"
    "  --server=HOST:PORT          gateway address (default localhost:50051)\n"
    "  --json                      print results as proto canonical JSON, one document per line\n"
    "  --tenant=STRING             tenant, sent as metadata x-qwenimage-tenant (heeded only by a\n"
    "                              gateway with --auth=none; else the token names the tenant)\n"
    "  --timeout=DURATION          deadline of each unary call (default 30s; waits are unbounded)\n"
    "  --token=TOKEN               bearer token, sent as metadata authorization: Bearer TOKEN\n"
    "                              (visible to other local users in ps: prefer --token_file)\n"
    "  --token_file=PATH           read the bearer token from PATH (trailing newline dropped)\n"
    "  --tls_ca=PATH               PEM CA certificates to verify the gateway with: the channel is\n"
    "                              TLS (without it, plaintext)\n";

void AddGlobalFlags(FlagSet* flags, GlobalOptions* options) {
  flags->AddString("server", &options->server, "gateway address");
  flags->AddBool("json", &options->json, "canonical JSON output");
  flags->AddString("tenant", &options->tenant, "tenant (x-qwenimage-tenant)");
  flags->AddDuration("timeout", &options->timeout, "deadline of each unary call");
  flags->AddString("token", &options->token, "bearer token");
  flags->AddString("token_file", &options->token_file, "file holding the bearer token");
  flags->AddString("tls_ca", &options->tls_ca, "PEM CA certificates: use TLS");
}

namespace {

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": read failed"));
  }
  return data;
}

// Printable ASCII without spaces: what a bearer token and a metadata value allow.
bool IsTokenText(absl::string_view token) {
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return !token.empty();
}

}  // namespace

absl::Status Invocation::LoadConnectionFiles() {
  if (!options_.token.empty() && !options_.token_file.empty()) {
    return absl::InvalidArgumentError("give --token or --token_file, not both");
  }
  token_ = options_.token;
  if (!options_.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadFlagFile("token_file", options_.token_file);
    if (!token.ok()) return token.status();
    token_ = *std::move(token);
    if (absl::EndsWith(token_, "\n")) token_.pop_back();
    if (absl::EndsWith(token_, "\r")) token_.pop_back();
  }
  if ((!options_.token.empty() || !options_.token_file.empty()) && !IsTokenText(token_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        options_.token_file.empty() ? "--token" : "--token_file " + options_.token_file,
        ": the token is empty or has characters other than printable ASCII"));
  }
  if (!options_.tls_ca.empty()) {
    absl::StatusOr<std::string> pem = ReadFlagFile("tls_ca", options_.tls_ca);
    if (!pem.ok()) return pem.status();
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_ca ", options_.tls_ca, ": no PEM certificate in it"));
    }
    ca_pem_ = *std::move(pem);
  }
  return absl::OkStatus();
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
  if (parsed.ok()) parsed = LoadConnectionFiles();
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
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!ca_pem_.empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ca_pem_;
      credentials = grpc::SslCredentials(tls);
    }
    stub_ = v1::ImageService::NewStub(grpc::CreateChannel(options_.server, credentials));
  }
  return *stub_;
}

std::unique_ptr<grpc::ClientContext> Invocation::NewContext(bool wait) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
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
