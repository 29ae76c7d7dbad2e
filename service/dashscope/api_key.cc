#include "service/dashscope/api_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace qwenimage::dashscope {
namespace {

constexpr size_t kMaxKeyFileBytes = 64 << 10;

// The listener calls running on this thread, innermost first, so that Unsubscribe from inside
// one of them does not wait for itself.
struct CallFrame {
  const void* registration;
  const CallFrame* outer;
};
thread_local const CallFrame* current_call = nullptr;

bool InCallOf(const void* registration) {
  for (const CallFrame* f = current_call; f != nullptr; f = f->outer) {
    if (f->registration == registration) return true;
  }
  return false;
}

absl::Status ErrnoError(int error, absl::string_view what, const std::string& path) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat("cannot ", what, " API key file ", path, ": ",
                                   std::strerror(error)));
}

}  // namespace

// ---------------------------------------------------------------------------------- ApiKey

struct ApiKey::Registration {
  explicit Registration(Listener l) : fn(std::move(l)) {}
  const Listener fn;
  int calls = 0;  // calls collected by Notify and not finished; guarded by the ApiKey's mu_
};

std::string ApiKey::Get() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::string ApiKey::Previous() const {
  absl::MutexLock lock(&mu_);
  return previous_;
}

uint64_t ApiKey::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

std::string ApiKey::Redact(std::string text) const {
  absl::MutexLock lock(&mu_);
  // The longer first, so that a key containing the other is replaced whole.
  const std::string* keys[2] = {&current_, &previous_};
  if (keys[1]->size() > keys[0]->size()) std::swap(keys[0], keys[1]);
  for (const std::string* key : keys) {
    if (!key->empty()) text = absl::StrReplaceAll(text, {{*key, "[redacted]"}});
  }
  return text;
}

bool ApiKey::Set(std::string key) {
  std::optional<uint64_t> generation = Store(std::move(key));
  if (!generation.has_value()) return false;
  Notify(*generation);
  return true;
}

std::optional<uint64_t> ApiKey::Store(std::string key) {
  absl::MutexLock lock(&mu_);
  if (key == current_) return std::nullopt;
  previous_ = std::exchange(current_, std::move(key));
  return ++generation_;
}

void ApiKey::Notify(uint64_t generation) {
  std::vector<std::shared_ptr<Registration>> registrations;
  {
    absl::MutexLock lock(&mu_);
    registrations.reserve(listeners_.size());
    for (auto& [id, r] : listeners_) {
      ++r->calls;
      registrations.push_back(r);
    }
  }
  for (const std::shared_ptr<Registration>& r : registrations) {
    const CallFrame frame{r.get(), current_call};
    current_call = &frame;
    r->fn(generation);
    current_call = frame.outer;
    absl::MutexLock lock(&mu_);
    --r->calls;
  }
}

ApiKey::ListenerId ApiKey::Subscribe(Listener listener) {
  absl::MutexLock lock(&mu_);
  const ListenerId id = next_listener_id_++;
  listeners_.emplace(id, std::make_shared<Registration>(std::move(listener)));
  return id;
}

void ApiKey::Unsubscribe(ListenerId id) {
  absl::MutexLock lock(&mu_);
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  std::shared_ptr<Registration> r = std::move(it->second);
  listeners_.erase(it);
  if (InCallOf(r.get())) return;
  mu_.Await(absl::Condition(+[](Registration* r) { return r->calls == 0; }, r.get()));
}

// ------------------------------------------------------------------------------ ApiKeyFile

absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path) {
  // stat() and open() the path each time: it follows the symlinks a Secret volume swaps.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("API key file ", path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat("API key file ", path, " is larger than ",
                                                      kMaxKeyFileBytes, " bytes"));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  std::string contents;
  char buffer[4096];
  int read_errno = 0;
  while (contents.size() <= kMaxKeyFileBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (read_errno != 0) return ErrnoError(read_errno, "read", path);
  if (contents.size() > kMaxKeyFileBytes) {  // grew between stat and read
    return absl::FailedPreconditionError(absl::StrCat("API key file ", path, " is larger than ",
                                                      kMaxKeyFileBytes, " bytes"));
  }
  std::string key(absl::StripAsciiWhitespace(contents));
  if (key.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("API key file ", path, " is empty"));
  }
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    // A space or a line break inside would be two keys or a header injection; bytes ≥ 0x80 are
    // no DashScope key either. Only the position class is reported, never the byte.
    if (u <= 0x20 || u >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "API key file ", path,
          " holds whitespace, control or non-ASCII characters inside the key"));
    }
  }
  return key;
}

struct ApiKeyFile::State {
  explicit State(std::string p) : path(std::move(p)) {}
  const std::string path;

  // Held across a read and its Store, so that of two overlapping reads the later one wins.
  absl::Mutex read_mu;

  absl::Mutex mu;
  bool watching ABSL_GUARDED_BY(mu) = false;
  bool polling ABSL_GUARDED_BY(mu) = false;
  uint64_t epoch ABSL_GUARDED_BY(mu) = 0;  // +1 per start and stop; stale timers do nothing
  Executor* executor ABSL_GUARDED_BY(mu) = nullptr;
  const Clock* clock ABSL_GUARDED_BY(mu) = nullptr;
  absl::Duration interval ABSL_GUARDED_BY(mu);
  std::optional<Executor::TimerId> timer ABSL_GUARDED_BY(mu);
  // Only the single running poll calls it, outside mu; StopWatching waits for that poll.
  ErrorHandler on_error;
  std::string last_error ABSL_GUARDED_BY(mu);  // reported already; "" after a good read
};

absl::StatusOr<std::unique_ptr<ApiKeyFile>> ApiKeyFile::Open(std::string path,
                                                             std::shared_ptr<ApiKey> key) {
  auto state = std::make_shared<State>(std::move(path));
  absl::StatusOr<std::string> first = ReadApiKeyFile(state->path);
  if (!first.ok()) return first.status();
  if (key == nullptr) key = std::make_shared<ApiKey>();
  key->Set(*std::move(first));
  return std::unique_ptr<ApiKeyFile>(new ApiKeyFile(std::move(key), std::move(state)));
}

ApiKeyFile::~ApiKeyFile() { StopWatching(); }

const std::string& ApiKeyFile::path() const { return state_->path; }

absl::Status ApiKeyFile::ReadInto(State& state, ApiKey& key) {
  std::optional<uint64_t> changed;
  {
    absl::MutexLock lock(&state.read_mu);
    absl::StatusOr<std::string> read = ReadApiKeyFile(state.path);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat(read.status().message(), "; keeping the current key"));
    }
    changed = key.Store(*std::move(read));
  }
  if (changed.has_value()) key.Notify(*changed);
  return absl::OkStatus();
}

absl::Status ApiKeyFile::Reload() { return ReadInto(*state_, *key_); }

void ApiKeyFile::StartWatching(Executor& executor, const Clock& clock, absl::Duration interval,
                               ErrorHandler on_error) {
  StopWatching();
  absl::MutexLock lock(&state_->mu);
  state_->watching = true;
  ++state_->epoch;
  state_->executor = &executor;
  state_->clock = &clock;
  state_->interval = interval;
  state_->on_error = std::move(on_error);
  state_->last_error.clear();
  ScheduleLocked(state_, key_);
}

void ApiKeyFile::StopWatching() {
  absl::MutexLock lock(&state_->mu);
  if (!state_->watching && !state_->polling) return;
  state_->watching = false;
  ++state_->epoch;
  if (state_->timer.has_value()) {
    // A timer that already fired may still run; it finds the epoch moved and does nothing.
    state_->executor->CancelTimer(*state_->timer);
    state_->timer.reset();
  }
  state_->mu.Await(absl::Condition(
      +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s->polling; }, state_.get()));
}

void ApiKeyFile::ScheduleLocked(const std::shared_ptr<State>& state,
                                const std::shared_ptr<ApiKey>& key) {
  state->mu.AssertHeld();
  const uint64_t epoch = state->epoch;
  state->timer = state->executor->RunAt(
      state->clock->Now() + state->interval, [state, key, epoch] {
        {
          absl::MutexLock lock(&state->mu);
          if (!state->watching || state->epoch != epoch) return;
          state->timer.reset();
          state->polling = true;
        }
        Poll(state, key);
      });
}

void ApiKeyFile::Poll(const std::shared_ptr<State>& state, const std::shared_ptr<ApiKey>& key) {
  const absl::Status status = ReadInto(*state, *key);
  bool report = false;
  {
    absl::MutexLock lock(&state->mu);
    if (status.ok()) {
      state->last_error.clear();
    } else if (std::string message(status.message()); message != state->last_error) {
      state->last_error = std::move(message);
      report = state->on_error != nullptr;
    }
  }
  if (report) state->on_error(status);
  absl::MutexLock lock(&state->mu);
  state->polling = false;
  if (state->watching) ScheduleLocked(state, key);
}

}  // namespace qwenimage::dashscope
