// ParseGenerationResponse (sync generation, dashscope-api.md §4) on arbitrary bodies.
#include <cstddef>
#include <cstdint>

#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reply_checks.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ds::UpstreamTask> task = ds::ParseGenerationResponse(body);
  if (!task.ok()) {
    CheckReplyError(task.status());
    return 0;
  }
  FUZZ_CHECK(task->status == ds::TaskStatus::kSucceeded);
  FUZZ_CHECK(task->task_id.empty());
  FUZZ_CHECK(!task->images.empty());
  FUZZ_CHECK(task->failures.empty());
  FUZZ_CHECK(task->image_count != 0);
  for (size_t i = 0; i < task->images.size(); ++i) {
    FUZZ_CHECK(!task->images[i].url.empty());
    FUZZ_CHECK(task->images[i].index == static_cast<int>(i));
  }
  return 0;
}

}  // namespace qwenimage::fuzz
