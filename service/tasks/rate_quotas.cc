#include "service/tasks/rate_quotas.h"

#include <algorithm>
#include <utility>

#include "service/tasks/quota_error.h"

namespace qwenimage::tasks {
namespace {

constexpr absl::Duration kBucketSpan = absl::Minutes(1);
constexpr absl::Duration kSweepInterval = absl::Minutes(1);

}  // namespace

RateQuotas::RateQuotas(const Clock& clock, LoadFn load) : clock_(clock), load_(std::move(load)) {}

void RateQuotas::Prune(Window& w, absl::Time now) {
  while (!w.creates.empty() && w.creates.front() + kCreatesWindow <= now) w.creates.pop_front();
  while (!w.images.empty() && w.images.front().last + kImagesWindow <= now) {
    w.images_total -= w.images.front().images;
    w.images.pop_front();
  }
}

void RateQuotas::AddImages(Window& w, absl::Time at, int64_t images) {
  if (images <= 0) return;
  if (!w.images.empty() && at >= w.images.back().first && at < w.images.back().first + kBucketSpan) {
    Bucket& b = w.images.back();
    b.last = std::max(b.last, at);
    b.images += images;
  } else {
    w.images.push_back({at, at, images});
  }
  w.images_total += images;
}

void RateQuotas::SweepLocked(absl::Time now, const std::string& keep) {
  if (now < next_sweep_) return;
  next_sweep_ = now + kSweepInterval;
  for (auto it = windows_.begin(); it != windows_.end();) {
    auto next = std::next(it);
    Prune(it->second, now);
    if (it->second.empty() && it->first != keep) windows_.erase(it);
    it = next;
  }
}

absl::StatusOr<RateQuotas::Reservation> RateQuotas::Reserve(const std::string& tenant,
                                                            const TenantQuotas& quotas,
                                                            int images) {
  const absl::Time now = clock_.Now();
  if (quotas.creates_per_minute <= 0 && quotas.images_per_day <= 0) {
    absl::MutexLock lock(&mu_);
    windows_.erase(tenant);  // unlimited: a later limit starts (and seeds) afresh
    return Reservation{tenant, now, false, 0};
  }
  absl::MutexLock lock(&mu_);
  // A create reserves only once its tenant's window is seeded, so that a seed neither misses
  // nor double-counts one. (A sweep may drop a seeded window that is still empty meanwhile:
  // then it is seeded again.)
  while (quotas.images_per_day > 0 && !windows_[tenant].images_seeded) {
    mu_.Unlock();  // the store may block
    absl::StatusOr<std::vector<std::pair<absl::Time, int>>> created =
        load_(tenant, now - kImagesWindow);
    mu_.Lock();
    if (!created.ok()) return created.status();
    std::sort(created->begin(), created->end());
    Window& w = windows_[tenant];
    if (!w.images_seeded) {
      for (const auto& [at, n] : *created) AddImages(w, at, std::max(n, 1));
      w.images_seeded = true;
    }
  }
  SweepLocked(now, tenant);
  Window& w = windows_[tenant];
  Prune(w, now);
  if (quotas.creates_per_minute <= 0) w.creates.clear();
  if (quotas.images_per_day <= 0) {
    w.images.clear();
    w.images_total = 0;
    w.images_seeded = false;
  }
  if (quotas.creates_per_minute > 0 &&
      static_cast<int64_t>(w.creates.size()) >= quotas.creates_per_minute) {
    // The window frees a place when its oldest create that keeps it full leaves it.
    const absl::Time frees = w.creates[w.creates.size() - quotas.creates_per_minute];
    return QuotaExceededError({tenant, QuotaKind::kCreatesPerMinute, quotas.creates_per_minute,
                               frees + kCreatesWindow - now});
  }
  if (quotas.images_per_day > 0 && w.images_total + images > quotas.images_per_day) {
    QuotaExceeded e{tenant, QuotaKind::kImagesPerDay, quotas.images_per_day, std::nullopt};
    if (images <= quotas.images_per_day) {  // otherwise no wait makes it fit
      int64_t left = w.images_total;
      for (const Bucket& b : w.images) {
        left -= b.images;
        if (left + images <= quotas.images_per_day) {
          e.retry_after = b.last + kImagesWindow - now;
          break;
        }
      }
    }
    return QuotaExceededError(e);
  }
  Reservation r{tenant, now, false, 0};
  if (quotas.creates_per_minute > 0) {
    w.creates.push_back(now);
    r.create = true;
  }
  if (quotas.images_per_day > 0) {
    AddImages(w, now, images);
    r.images = images;
  }
  if (w.empty() && !w.images_seeded) windows_.erase(tenant);
  return r;
}

void RateQuotas::Cancel(const Reservation& r) {
  if (!r.create && r.images == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = windows_.find(r.tenant);
  if (it == windows_.end()) return;
  Window& w = it->second;
  if (r.create) {
    auto at = std::find(w.creates.rbegin(), w.creates.rend(), r.at);
    if (at != w.creates.rend()) w.creates.erase(std::next(at).base());
  }
  if (r.images > 0) {
    for (auto b = w.images.rbegin(); b != w.images.rend(); ++b) {
      if (r.at < b->first || r.at > b->last) continue;
      const int64_t taken = std::min<int64_t>(b->images, r.images);
      b->images -= taken;
      w.images_total -= taken;
      if (b->images == 0) w.images.erase(std::next(b).base());
      break;
    }
  }
}

size_t RateQuotas::TrackedTenants() const {
  absl::MutexLock lock(&mu_);
  return windows_.size();
}

}  // namespace qwenimage::tasks
