#include "service/tasks/quota_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace qwenimage::tasks {
namespace {

constexpr char kPayloadUrl[] = "type.qwenimage/tasks.QuotaExceeded";
constexpr QuotaKind kAll[] = {QuotaKind::kMaxQueued, QuotaKind::kMaxRunning,
                              QuotaKind::kCreatesPerMinute, QuotaKind::kImagesPerDay};

std::string Explain(const QuotaExceeded& e) {
  switch (e.quota) {
    case QuotaKind::kMaxQueued:
      return absl::StrCat("tenant \"", e.tenant, "\" has ", e.limit,
                          " tasks queued (max_queued quota); retry once some have started");
    case QuotaKind::kMaxRunning:
      return absl::StrCat("tenant \"", e.tenant, "\" holds its ", e.limit,
                          " running slots (max_running quota)");
    case QuotaKind::kCreatesPerMinute:
      return absl::StrCat("tenant \"", e.tenant, "\" created ", e.limit,
                          " tasks in the last minute (creates_per_minute quota)");
    case QuotaKind::kImagesPerDay:
      return absl::StrCat("tenant \"", e.tenant, "\" would exceed ", e.limit,
                          " images in 24 hours (images_per_day quota)");
  }
  return "quota exceeded";
}

}  // namespace

absl::Status QuotaExceededError(const QuotaExceeded& e) {
  absl::Status status(absl::StatusCode::kResourceExhausted, Explain(e));
  nlohmann::json j = {{"tenant", e.tenant}, {"quota", QuotaName(e.quota)}, {"limit", e.limit}};
  if (e.retry_after.has_value()) {
    j["retry_after_ms"] = absl::ToInt64Milliseconds(*e.retry_after);
  }
  status.SetPayload(kPayloadUrl,
                    absl::Cord(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return status;
}

std::optional<QuotaExceeded> GetQuotaExceeded(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(std::string(*payload), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  QuotaExceeded e;
  const std::string name = j.value("quota", "");
  bool known = false;
  for (QuotaKind kind : kAll) {
    if (name == QuotaName(kind)) {
      e.quota = kind;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  e.tenant = j.value("tenant", "");
  e.limit = j.value("limit", int64_t{0});
  if (j.contains("retry_after_ms")) {
    e.retry_after = absl::Milliseconds(j.value("retry_after_ms", int64_t{0}));
  }
  return e;
}

}  // namespace qwenimage::tasks
