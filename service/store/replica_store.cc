#include "service/store/replica_store.h"

#include "absl/strings/cord.h"

namespace qwenimage::store {
namespace {
constexpr char kFencedPayload[] = "type.qwenimage.dev/store.Fenced";
}  // namespace

absl::Status FencedError(absl::string_view message) {
  absl::Status status = absl::FailedPreconditionError(message);
  status.SetPayload(kFencedPayload, absl::Cord("1"));
  return status;
}

bool IsFenced(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) && status.GetPayload(kFencedPayload).has_value();
}

}  // namespace qwenimage::store
