#include "service/auth/authenticator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "spdlog/spdlog.h"

namespace qwenimage::auth {
namespace {

// The messages a caller sees: fixed text, never an echo of what the call sent.
constexpr char kMissing[] = "missing credentials: send \"authorization: Bearer <token>\" metadata";
constexpr char kMalformed[] =
    "malformed authorization metadata: expected one \"Bearer <token>\" value";
constexpr char kUnknownToken[] = "invalid or revoked bearer token";
constexpr char kUnknownPeer[] = "the client certificate's identity is not mapped to a tenant";

// The token of an "Bearer <token>" value (RFC 6750 §2.1: scheme case-insensitive, 1*SP); empty
// when the value is not of that form. The token must be printable ASCII without spaces.
absl::string_view BearerToken(absl::string_view value) {
  constexpr absl::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme) ||
      value[kScheme.size()] != ' ') {
    return {};
  }
  absl::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const bool printable = std::all_of(token.begin(), token.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
  return printable ? token : absl::string_view();
}

std::string DigestOfContents(absl::string_view contents) {
  const TokenDigest d = DigestOf(contents);
  return std::string(d.begin(), d.end());
}

}  // namespace

absl::StatusOr<AuthMode> ParseAuthMode(absl::string_view text) {
  if (text == "none") return AuthMode::kNone;
  if (text == "tokens") return AuthMode::kTokens;
  return absl::InvalidArgumentError("--auth must be tokens or none");
}

absl::string_view AuthModeName(AuthMode mode) {
  return mode == AuthMode::kNone ? "none" : "tokens";
}


Authenticator::Authenticator(Options options)
    : options_(std::move(options)),
      config_(std::make_shared<const TokenConfig>()) {}

Authenticator::~Authenticator() { StopWatching(); }

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(Options options) {
  if (options.mode == AuthMode::kTokens && options.tokens_file.empty()) {
    return absl::InvalidArgumentError(
        "--auth=tokens needs --tokens_file (or run with --auth=none for local use)");
  }
  std::unique_ptr<Authenticator> self(new Authenticator(std::move(options)));
  if (self->mode() == AuthMode::kTokens) {
    if (absl::StatusOr<bool> s = self->Reload(); !s.ok()) return s.status();
  }
  return self;
}

std::unique_ptr<Authenticator> Authenticator::ForConfig(TokenConfig config,
                                                        tasks::TenantQuotas default_quotas) {
  Options options;
  options.mode = AuthMode::kTokens;
  options.default_quotas = default_quotas;
  std::unique_ptr<Authenticator> self(new Authenticator(std::move(options)));
  absl::MutexLock lock(&self->mu_);
  self->config_ = std::make_shared<const TokenConfig>(std::move(config));
  return self;
}

std::shared_ptr<const TokenConfig> Authenticator::config() const {
  absl::MutexLock lock(&mu_);
  return config_;
}

size_t Authenticator::token_count() const { return config()->tokens.size(); }
size_t Authenticator::identity_count() const { return config()->identities.size(); }

absl::StatusOr<Principal> Authenticator::Authenticate(const CallCredentials& credentials) const {
  if (options_.mode == AuthMode::kNone) return FromHeader(credentials);
  const std::shared_ptr<const TokenConfig> config = this->config();
  if (credentials.authorization.size() > 1) return absl::UnauthenticatedError(kMalformed);
  if (credentials.authorization.size() == 1) {
    return FromToken(*config, credentials.authorization.front());
  }
  for (const std::string& san : credentials.peer_sans) {
    if (const IdentityEntry* identity = config->FindIdentity(san); identity != nullptr) {
      return Principal{identity->tenant, identity->quotas.ApplyTo(options_.default_quotas)};
    }
  }
  if (!credentials.peer_sans.empty()) return absl::UnauthenticatedError(kUnknownPeer);
  return absl::UnauthenticatedError(kMissing);
}

absl::StatusOr<Principal> Authenticator::FromToken(const TokenConfig& config,
                                                   absl::string_view authorization) const {
  const absl::string_view token = BearerToken(authorization);
  if (token.empty()) return absl::UnauthenticatedError(kMalformed);
  TokenDigest digest = DigestOf(token);
  size_t comparisons = 0;
  const TokenEntry* entry = config.FindToken(digest, &comparisons);
  digest_comparisons_.fetch_add(comparisons, std::memory_order_relaxed);
  OPENSSL_cleanse(digest.data(), digest.size());
  if (entry == nullptr) return absl::UnauthenticatedError(kUnknownToken);
  return Principal{entry->tenant, entry->quotas.ApplyTo(options_.default_quotas)};
}

absl::StatusOr<Principal> Authenticator::FromHeader(const CallCredentials& credentials) const {
  Principal principal{kDefaultTenant, options_.default_quotas};
  if (!credentials.tenant_header.has_value()) return principal;
  if (!IsValidTenant(*credentials.tenant_header)) {
    return absl::InvalidArgumentError(absl::StrCat(kTenantHeader, ": ", kTenantRule));
  }
  principal.tenant = std::string(*credentials.tenant_header);
  return principal;
}

absl::StatusOr<bool> Authenticator::Reload() {
  if (options_.mode == AuthMode::kNone) return false;
  if (options_.tokens_file.empty()) {
    return absl::FailedPreconditionError("no tokens file to re-read");
  }
  absl::MutexLock reload_lock(&reload_mu_);
  absl::StatusOr<std::string> contents = ReadTokenFile(options_.tokens_file);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat(contents.status().message(), "; keeping the tokens in use"));
  }
  std::string digest = DigestOfContents(*contents);
  if (digest == applied_digest_) return false;
  absl::StatusOr<TokenConfig> parsed = ParseTokenConfig(*contents);
  OPENSSL_cleanse(contents->data(), contents->size());
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(options_.tokens_file, ": ", parsed.status().message(),
                                     "; keeping the tokens in use"));
  }
  auto config = std::make_shared<const TokenConfig>(*std::move(parsed));
  std::shared_ptr<const TokenConfig> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(config_, std::move(config));
  }
  applied_digest_ = std::move(digest);
  return true;  // `old` is freed here, outside mu_, once no reader holds it
}

void Authenticator::StartWatching(Executor& executor, const Clock& clock, absl::Duration interval,
                                  ErrorHandler on_error) {
  if (options_.mode == AuthMode::kNone || options_.tokens_file.empty()) return;
  poll_.Start(executor, clock, interval, [this] { return Poll(); }, std::move(on_error));
}

void Authenticator::StopWatching() { poll_.Stop(); }

absl::Status Authenticator::Poll() {
  const absl::StatusOr<bool> reloaded = Reload();
  if (reloaded.ok() && *reloaded) {
    spdlog::info("tokens file {} re-read: {} tokens, {} identities", options_.tokens_file,
                 token_count(), identity_count());
  }
  return reloaded.status();
}

}  // namespace qwenimage::auth
