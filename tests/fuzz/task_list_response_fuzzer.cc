// ParseTaskListResponse (GET /tasks batch list, dashscope-api.md §5.3) on arbitrary bodies.
#include <cstddef>
#include <cstdint>

#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reply_checks.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ds::TaskListPage> page = ds::ParseTaskListResponse(body);
  if (!page.ok()) {
    CheckReplyError(page.status());
    return 0;
  }
  for (const ds::TaskListEntry& entry : page->data) {
    FUZZ_CHECK(entry.status >= ds::TaskStatus::kPending &&
               entry.status <= ds::TaskStatus::kUnknown);
    // Epoch milliseconds of any int64 stay finite times (the poller compares them).
    for (const auto& t : {entry.gmt_create, entry.start_time, entry.end_time}) {
      if (t.has_value()) FUZZ_CHECK(*t != absl::InfiniteFuture() && *t != absl::InfinitePast());
    }
  }
  return 0;
}

}  // namespace qwenimage::fuzz
