// ParseCancelResponse (POST /tasks/{id}/cancel, dashscope-api.md §5.4) on arbitrary bodies.
#include <cstddef>
#include <cstdint>

#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reply_checks.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> request_id = ds::ParseCancelResponse(body);
  if (!request_id.ok()) CheckReplyError(request_id.status());
  return 0;
}

}  // namespace qwenimage::fuzz
