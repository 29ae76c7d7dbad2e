// ApiKey: the DashScope API key in use, replaceable at run time (key rotation). ApiKeyFile keeps
// one in step with a file — a mounted Kubernetes Secret — on Reload() (SIGHUP) and by polling.
// Neither ever puts key bytes in a Status, a log line or a callback argument.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_API_KEY_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_API_KEY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/common/periodic_poll.h"

namespace qwenimage::dashscope {

// Thread-safe holder of the current key. Readers take a copy per use (per request), so a
// rotation applies from the next request on; requests already sent keep the key they carried.
class ApiKey {
 public:
  // Told the generation a change produced; read the key itself with Get(). Called on the thread
  // that changed the key, outside every lock of this class, possibly concurrently with another
  // call for a later change — a listener that cares compares against generation().
  using Listener = absl::AnyInvocable<void(uint64_t generation) const>;
  using ListenerId = uint64_t;

  ApiKey() = default;
  explicit ApiKey(std::string key) : current_(std::move(key)) {}
  ApiKey(const ApiKey&) = delete;
  ApiKey& operator=(const ApiKey&) = delete;

  std::string Get() const;
  // The key Set() last replaced ("" before the first change); kept so that it is still
  // redacted from replies to requests sent before the change.
  std::string Previous() const;
  // 0 initially, +1 per change.
  uint64_t generation() const;
  // `text` with the current and the previous key replaced by "[redacted]", read together.
  std::string Redact(std::string text) const;

  // Replaces the key; returns whether it differed (an equal key changes nothing, notifies no
  // one). Callers reject empty keys themselves when they must (ApiKeyFile does).
  bool Set(std::string key);

  // Calls `listener` after every later change until Unsubscribe.
  ListenerId Subscribe(Listener listener);
  // Once this returns, `id`'s listener is not running and never runs again — unless called
  // from that listener itself, which then simply finishes its current call.
  void Unsubscribe(ListenerId id);

 private:
  friend class ApiKeyFile;
  struct Registration;

  // Set() in two halves so that ApiKeyFile can order its writes under a lock of its own and
  // still notify outside it: Store returns the new generation when the key changed.
  std::optional<uint64_t> Store(std::string key);
  void Notify(uint64_t generation);

  mutable absl::Mutex mu_;
  std::string current_ ABSL_GUARDED_BY(mu_);
  std::string previous_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<ListenerId, std::shared_ptr<Registration>> listeners_ ABSL_GUARDED_BY(mu_);
  ListenerId next_listener_id_ ABSL_GUARDED_BY(mu_) = 1;
};

// Keeps an ApiKey equal to the trimmed contents of a file. The path is stat()ed and opened
// afresh on every read — never an fd kept open — so that the atomic symlink swap Kubernetes
// uses to update a Secret volume (`..data` → a new timestamped directory) is followed.
//
// A read that fails (missing, unreadable, empty, over 64 KiB, or whitespace or control
// characters inside the key) keeps the current key and says so in the returned or reported
// Status, which names the path but never any byte of the file.
class ApiKeyFile {
 public:
  // Reported by the watcher when a poll fails, once per distinct failure (not every interval);
  // called outside every lock of this class and of the ApiKey.
  using ErrorHandler = absl::AnyInvocable<void(const absl::Status& error)>;

  // Reads `path` into `key` (a new ApiKey when null). Fails, creating nothing, when the file
  // cannot be read or holds no key: a process should not start without one.
  static absl::StatusOr<std::unique_ptr<ApiKeyFile>> Open(std::string path,
                                                           std::shared_ptr<ApiKey> key = nullptr);
  // Stops the watcher (see StopWatching).
  ~ApiKeyFile();
  ApiKeyFile(const ApiKeyFile&) = delete;
  ApiKeyFile& operator=(const ApiKeyFile&) = delete;

  const std::shared_ptr<ApiKey>& key() const { return key_; }
  const std::string& path() const;

  // Reads the file now (for SIGHUP). OK also when the key is unchanged; on error the current
  // key stays. ApiKey listeners are called before this returns, on this thread.
  absl::Status Reload();

  // Re-reads the file every `interval` (by `clock`, on `executor`) and applies a changed key.
  // Each poll stats the path and reads the content, so a change is seen whatever the file
  // system's mtime granularity. `executor` and `clock` must outlive StopWatching(). Calling it
  // again restarts with the new arguments.
  void StartWatching(Executor& executor, const Clock& clock,
                     absl::Duration interval = absl::Seconds(2), ErrorHandler on_error = nullptr);
  // Cancels the next poll and waits for one that is running. Idempotent. Not from `on_error`
  // nor from an ApiKey listener that a poll is running (it would wait for itself).
  void StopWatching();

 private:
  struct State;
  ApiKeyFile(std::shared_ptr<ApiKey> key, std::shared_ptr<State> state)
      : key_(std::move(key)), state_(std::move(state)) {}

  static absl::Status ReadInto(State& state, ApiKey& key);

  std::shared_ptr<ApiKey> key_;
  std::shared_ptr<State> state_;
  PeriodicPoll poll_;
};

// Reads and trims a key file without touching any holder; the checks ApiKeyFile applies.
// Exposed for tests and for a one-off read.
absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_API_KEY_H_
