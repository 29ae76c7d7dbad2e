// Invariants shared by the fuzz targets of the 2xx reply parsers (response_parser.h).
#ifndef QWENIMAGE_TESTS_FUZZ_REPLY_CHECKS_H_
#define QWENIMAGE_TESTS_FUZZ_REPLY_CHECKS_H_

#include <optional>

#include "absl/status/status.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {

// A failed parse is DATA_LOSS without an UpstreamError (not the documented shape: only the caller
// knows whether a retry is safe), or a 2xx error envelope carried as an unclassified
// UpstreamError with its non-empty code, which the failure classification must accept.
inline void CheckReplyError(const absl::Status& status) {
  FUZZ_CHECK(!status.ok());
  std::optional<dashscope::UpstreamError> error = dashscope::GetUpstreamError(status);
  if (!error.has_value()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss);
    return;
  }
  FUZZ_CHECK(status.code() == absl::StatusCode::kInternal);
  FUZZ_CHECK(error->http_status == 200);
  FUZZ_CHECK(!error->code.empty());
  for (auto call : {dashscope::CallKind::kBilled, dashscope::CallKind::kFree}) {
    const dashscope::Verdict v = dashscope::Classify(
        call, {dashscope::Answer::Shape::kDashScope, 200, error->code});
    FUZZ_CHECK(v.status_code != absl::StatusCode::kOk);
    // DashScope's own JSON error says what happened: never an unknown outcome.
    FUZZ_CHECK(v.kind != dashscope::UpstreamError::Kind::kOutcomeUnknown);
  }
}

}  // namespace qwenimage::fuzz

#endif  // QWENIMAGE_TESTS_FUZZ_REPLY_CHECKS_H_
