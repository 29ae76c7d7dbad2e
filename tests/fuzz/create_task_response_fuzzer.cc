// ParseCreateTaskResponse (async create, dashscope-api.md §5.1) on arbitrary bodies.
#include <cstddef>
#include <cstdint>

#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reply_checks.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ds::CreatedTask> created = ds::ParseCreateTaskResponse(body);
  if (!created.ok()) {
    CheckReplyError(created.status());
    return 0;
  }
  // The task id is what the gateway stores before anything else: never empty.
  FUZZ_CHECK(!created->task_id.empty());
  FUZZ_CHECK(created->status >= ds::TaskStatus::kPending &&
             created->status <= ds::TaskStatus::kUnknown);
  return 0;
}

}  // namespace qwenimage::fuzz
