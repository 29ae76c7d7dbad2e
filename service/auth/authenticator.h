// Authenticator: turns what a call presents (a bearer token, a verified client certificate, or
// in --auth=none the self-asserted tenant header) into a Principal. In tokens mode it holds the
// current TokenConfig, swapped whole when the tokens file changes (polled, or Reload() on
// SIGHUP); a file that stops parsing keeps the last good config. Authenticate never waits on
// file I/O and never puts a token, a hash or an Authorization value in a Status or a log line.
#ifndef QWENIMAGE_SERVICE_AUTH_AUTHENTICATOR_H_
#define QWENIMAGE_SERVICE_AUTH_AUTHENTICATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/auth/principal.h"
#include "service/auth/token_file.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/common/periodic_poll.h"

namespace qwenimage::auth {

enum class AuthMode {
  kNone,    // the tenant is whatever the x-qwenimage-tenant header says (local use only)
  kTokens,  // a bearer token from the tokens file, or an mTLS identity it maps
};

// "none" or "tokens".
absl::StatusOr<AuthMode> ParseAuthMode(absl::string_view text);
absl::string_view AuthModeName(AuthMode mode);

inline constexpr char kTenantHeader[] = "x-qwenimage-tenant";
inline constexpr char kDefaultTenant[] = "default";
inline constexpr char kTenantRule[] =
    "must be 1 to 64 characters of letters, digits, '.', '_', '-', ':'";

// What one call presents, as plain strings (grpc_credentials.h extracts them from a
// ServerContext). The views point into the call's metadata and live no longer than the call.
struct CallCredentials {
  // Every value of the `authorization` metadata key (more than one is refused).
  std::vector<absl::string_view> authorization;
  // The x-qwenimage-tenant value, if sent (used only with AuthMode::kNone).
  std::optional<absl::string_view> tenant_header;
  // The URI and DNS subject alternative names of a client certificate that the TLS handshake
  // verified against --tls_client_ca; empty without mTLS.
  std::vector<std::string> peer_sans;
};

class Authenticator {
 public:
  struct Options {
    AuthMode mode = AuthMode::kTokens;
    // Required with kTokens; ignored with kNone.
    std::string tokens_file;
    // Every principal's quotas before the entry's overrides.
    tasks::TenantQuotas default_quotas;
  };
  // Reported by the watcher when a poll finds a file that cannot be used, once per distinct
  // failure; called outside every lock of this class.
  using ErrorHandler = absl::AnyInvocable<void(const absl::Status& error)>;

  // kTokens reads and parses the file now: a process should not start with a bad one.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(Options options);
  // For tests: tokens mode on a config without a file (Reload then fails).
  static std::unique_ptr<Authenticator> ForConfig(TokenConfig config,
                                                  tasks::TenantQuotas default_quotas = {});
  ~Authenticator();  // stops the watcher
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  AuthMode mode() const { return options_.mode; }

  // kTokens: an `authorization: Bearer <token>` value decides alone (a token that does not
  // match is UNAUTHENTICATED even when a client certificate would); without one, the first
  // peer SAN the file maps; else UNAUTHENTICATED. kNone: the tenant header, or "default"
  // without one (INVALID_ARGUMENT when malformed), with the default quotas.
  absl::StatusOr<Principal> Authenticate(const CallCredentials& credentials) const;

  // Re-reads the tokens file now (SIGHUP): true when a changed file was applied, false when it
  // is unchanged (and in kNone mode, where nothing is read). On error the current config stays.
  absl::StatusOr<bool> Reload();

  // Re-reads the file every `interval` (by `clock`, on `executor`) and applies a changed one.
  // `executor` and `clock` must outlive StopWatching(). Nothing to watch in kNone mode.
  void StartWatching(Executor& executor, const Clock& clock, absl::Duration interval,
                     ErrorHandler on_error = nullptr);
  // Cancels the next poll and waits for one that is running. Idempotent; not from on_error.
  void StopWatching();

  // Entries of the config in use (0 in kNone mode).
  size_t token_count() const;
  size_t identity_count() const;
  // Constant-time digest comparisons made so far: every bearer token costs one per token in
  // the config, whether and where it matches (TokenConfig::FindToken).
  uint64_t digest_comparisons() const { return digest_comparisons_.load(); }

 private:
  explicit Authenticator(Options options);

  std::shared_ptr<const TokenConfig> config() const;
  absl::StatusOr<Principal> FromToken(const TokenConfig& config,
                                      absl::string_view authorization) const;
  absl::StatusOr<Principal> FromHeader(const CallCredentials& credentials) const;
  // One poll of the watcher: Reload, logging a change.
  absl::Status Poll();

  const Options options_;

  // Held across a read and its swap, so that of two overlapping reads the later one wins.
  absl::Mutex reload_mu_;
  std::string applied_digest_ ABSL_GUARDED_BY(reload_mu_);  // of the file contents in use

  mutable absl::Mutex mu_;
  // Readers copy the pointer under mu_ and use the config outside it.
  std::shared_ptr<const TokenConfig> config_ ABSL_GUARDED_BY(mu_);

  PeriodicPoll poll_;
  mutable std::atomic<uint64_t> digest_comparisons_{0};
};

}  // namespace qwenimage::auth

#endif  // QWENIMAGE_SERVICE_AUTH_AUTHENTICATOR_H_
