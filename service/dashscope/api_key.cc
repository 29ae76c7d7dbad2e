#include "service/dashscope/api_key.h"

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "service/common/mounted_file.h"

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
  absl::StatusOr<std::string> contents = ReadMountedFile(path, "API key file", kMaxKeyFileBytes);
  if (!contents.ok()) return contents.status();
  std::string key(absl::StripAsciiWhitespace(*contents));
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
  poll_.Start(
      executor, clock, interval, [state = state_, key = key_] { return ReadInto(*state, *key); },
      std::move(on_error));
}

void ApiKeyFile::StopWatching() { poll_.Stop(); }

}  // namespace qwenimage::dashscope
