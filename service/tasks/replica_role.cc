#include "service/tasks/replica_role.h"

#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/ids.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {

std::string NewLeaseHolder() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, "/", getpid(), "/", NewTaskId().substr(0, 8));
}

ReplicaRole::ReplicaRole(ReplicaRoleOptions options, store::ReplicaStore& store,
                         TaskManager& manager, Executor& executor, const Clock& clock,
                         std::function<void(const absl::Status&)> on_lost)
    : options_(std::move(options)),
      store_(store),
      manager_(manager),
      executor_(executor),
      clock_(clock),
      on_lost_(std::move(on_lost)) {}

ReplicaRole::~ReplicaRole() { Stop(); }

absl::Status ReplicaRole::Start() {
  if (options_.lease_ttl <= absl::ZeroDuration() || options_.claim_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease_ttl and claim_interval must be positive");
  }
  if (absl::Status s = store_.StartListening(
          [this](const store::TaskChange& change) { OnChange(change); });
      !s.ok()) {
    return s;
  }
  {
    absl::MutexLock lock(&mu_);
    running_ = true;
  }
  Tick();
  return absl::OkStatus();
}

void ReplicaRole::Stop() {
  int64_t held;
  Executor::TimerId tick;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    held = lost_ ? 0 : epoch_;
    epoch_ = 0;
    tick = tick_;
    tick_ = 0;
  }
  if (tick != 0) executor_.CancelTimer(tick);
  store_.StopListening();
  if (held > 0) {
    if (absl::Status s = store_.ReleaseLease(options_.lease_name, options_.holder, held); s.ok()) {
      spdlog::info("lease released (epoch {}): a standby takes over now", held);
    } else {
      spdlog::warn("releasing the lease failed (a standby takes over when it expires): {}",
                   s.ToString());
    }
  }
}

bool ReplicaRole::Leading() const {
  absl::MutexLock lock(&mu_);
  return epoch_ > 0;
}

int64_t ReplicaRole::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

void ReplicaRole::Tick() {
  int64_t epoch;
  absl::Time valid_until;
  {
    absl::MutexLock lock(&mu_);
    if (!running_ || lost_) return;
    epoch = epoch_;
    valid_until = valid_until_;
  }
  if (epoch == 0) {
    TryAcquire();
  } else if (clock_.Now() >= valid_until) {
    Lost(absl::DeadlineExceededError(
        "the lease ran out before it was renewed (the database was unreachable or this process "
        "was paused)"));
    return;
  } else {
    Renew();
    ScheduleSweep();
  }
  absl::MutexLock lock(&mu_);
  if (!running_ || lost_) return;
  const absl::Duration period = std::min(options_.lease_ttl / 3, options_.claim_interval);
  tick_ = executor_.RunAt(clock_.Now() + period, [this] { Tick(); });
}

void ReplicaRole::TryAcquire() {
  const absl::Time sent = clock_.Now();
  absl::StatusOr<std::optional<int64_t>> acquired =
      store_.AcquireLease(options_.lease_name, options_.holder, options_.lease_ttl);
  if (!acquired.ok()) {
    spdlog::warn("trying for the lease failed (retrying): {}", acquired.status().ToString());
    return;
  }
  if (!acquired->has_value()) return;  // another replica holds it
  const int64_t epoch = **acquired;
  bool stopped;
  {
    absl::MutexLock lock(&mu_);
    stopped = !running_;
    if (!stopped) {
      epoch_ = epoch;
      valid_until_ = sent + options_.lease_ttl;
    }
  }
  if (stopped) {  // Stop ran meanwhile: hand it straight back
    store_.ReleaseLease(options_.lease_name, options_.holder, epoch).IgnoreError();
    return;
  }
  store_.SetWriterEpoch(epoch);
  spdlog::info("this replica holds the lease (epoch {}): it admits and polls for the account",
               epoch);
  if (options_.on_lead) options_.on_lead(epoch);
  manager_.Lead([this] {
    absl::MutexLock lock(&mu_);
    return !lost_ && epoch_ > 0 && clock_.Now() < valid_until_;
  });
  Sweep();
}

void ReplicaRole::Renew() {
  int64_t epoch;
  {
    absl::MutexLock lock(&mu_);
    epoch = epoch_;
    // Renewed a third of the way in: not before then.
    if (valid_until_ - clock_.Now() > options_.lease_ttl * 2 / 3) return;
  }
  const absl::Time sent = clock_.Now();
  absl::Status s =
      store_.RenewLease(options_.lease_name, options_.holder, epoch, options_.lease_ttl);
  if (absl::IsFailedPrecondition(s)) {
    Lost(s);
    return;
  }
  if (!s.ok()) {
    spdlog::warn("renewing the lease failed (retrying until it runs out): {}", s.ToString());
    return;
  }
  absl::MutexLock lock(&mu_);
  valid_until_ = sent + options_.lease_ttl;
}

void ReplicaRole::ScheduleSweep() {
  {
    absl::MutexLock lock(&mu_);
    if (!running_ || lost_ || epoch_ == 0) return;
    if (sweep_pending_) {
      sweep_again_ = true;
      return;
    }
    sweep_pending_ = true;
  }
  executor_.Run([this] {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        sweep_again_ = false;
      }
      Sweep();
      absl::MutexLock lock(&mu_);
      if (!sweep_again_) {
        sweep_pending_ = false;
        return;
      }
    }
  });
}

void ReplicaRole::Sweep() {
  int64_t epoch;
  {
    absl::MutexLock lock(&mu_);
    if (!running_ || lost_ || epoch_ == 0) return;
    epoch = epoch_;
  }
  for (;;) {
    absl::StatusOr<std::vector<store::TaskRecord>> claimed =
        store_.ClaimUnfinished(epoch, options_.claim_batch);
    if (!claimed.ok()) {
      spdlog::warn("claiming tasks failed (the next sweep retries): {}",
                   claimed.status().ToString());
      return;
    }
    const bool more = static_cast<int>(claimed->size()) == options_.claim_batch;
    manager_.Adopt(*std::move(claimed));
    if (!more) break;
  }
  absl::StatusOr<std::vector<std::string>> cancels = store_.ListCancelRequests(epoch);
  if (!cancels.ok()) {
    spdlog::warn("reading cancel requests failed (the next sweep retries): {}",
                 cancels.status().ToString());
    return;
  }
  if (!cancels->empty()) manager_.CarryOutCancels(*cancels);
}

void ReplicaRole::OnChange(const store::TaskChange& change) {
  manager_.OnStoredChange(change.task_id);
  int64_t epoch;
  {
    absl::MutexLock lock(&mu_);
    epoch = epoch_;
  }
  if (epoch == 0) return;
  // The holder's own writes need nothing; a new task (unclaimed), a cancel request, or a missed
  // stretch (empty id) needs a sweep. Its own creates are unclaimed too until their first write:
  // those it runs already.
  if (!change.task_id.empty() && !change.cancel_requested &&
      (change.owner_epoch == epoch || manager_.Runs(change.task_id))) {
    return;
  }
  ScheduleSweep();
}

void ReplicaRole::Lost(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (lost_) return;
    lost_ = true;
    epoch_ = 0;
  }
  spdlog::critical("lost the lease: {}", status.ToString());
  if (on_lost_) on_lost_(status);
}

}  // namespace qwenimage::tasks
