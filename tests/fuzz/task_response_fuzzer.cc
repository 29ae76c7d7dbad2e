// ParseTaskResponse (GET /tasks/{id}, dashscope-api.md §5.2) on arbitrary bodies, and the
// classification of the task-level failures it reports.
#include <cstddef>
#include <cstdint>
#include <set>

#include "service/dashscope/failure.h"
#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reply_checks.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ds::UpstreamTask> task = ds::ParseTaskResponse(body);
  if (!task.ok()) {
    CheckReplyError(task.status());
    return 0;
  }
  FUZZ_CHECK(task->status >= ds::TaskStatus::kPending && task->status <= ds::TaskStatus::kUnknown);
  if (task->status == ds::TaskStatus::kSucceeded) {
    FUZZ_CHECK(!task->images.empty());
    FUZZ_CHECK(task->image_count != 0);
  }
  // Images and failures are positions in one results array: increasing, disjoint.
  std::set<int> positions;
  int last = -1;
  for (const ds::ResultImage& image : task->images) {
    FUZZ_CHECK(!image.url.empty());
    FUZZ_CHECK(image.index > last);
    last = image.index;
    FUZZ_CHECK(positions.insert(image.index).second);
  }
  last = -1;
  for (const ds::ResultFailure& failure : task->failures) {
    FUZZ_CHECK(failure.index > last);
    last = failure.index;
    FUZZ_CHECK(positions.insert(failure.index).second);
  }
  // A task that ran and failed was not billed: whatever its code, it is final for this task.
  if (task->status == ds::TaskStatus::kFailed) {
    const ds::Verdict v = ds::ClassifyTaskFailure(task->code);
    FUZZ_CHECK(v.kind == ds::UpstreamError::Kind::kTerminal);
    FUZZ_CHECK(v.status_code != absl::StatusCode::kOk);
  }
  for (const ds::ResultFailure& failure : task->failures) {
    FUZZ_CHECK(ds::ClassifyTaskFailure(failure.code).kind == ds::UpstreamError::Kind::kTerminal);
  }
  return 0;
}

}  // namespace qwenimage::fuzz
