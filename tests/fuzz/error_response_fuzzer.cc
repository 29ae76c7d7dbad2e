// ParseErrorResponse (non-2xx bodies, dashscope-api.md §4 and §6) and the failure classification
// of what it parsed (failure.h), then the UpstreamError's trip through absl::Status (errors.h).
// Input: HTTP status (2 bytes), flags (call kind = flags % 3: free, billed, download; bit 2 sets
// Retry-After), Retry-After in ms (8 bytes), then the body.
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "service/dashscope/response_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace ds = dashscope;
using Kind = ds::UpstreamError::Kind;

void CheckVerdict(ds::CallKind call, const ds::Answer& answer, const ds::Verdict& v) {
  const bool billed = call == ds::CallKind::kBilled;
  FUZZ_CHECK(v.status_code != absl::StatusCode::kOk);
  // Only the gateway's own caller can be told "unknown": a billed call whose work may exist.
  if (v.kind == Kind::kOutcomeUnknown) {
    FUZZ_CHECK(billed);
    FUZZ_CHECK(!v.caller_may_retry);
  }
  // A billed call is sent again only when DashScope's JSON says no work was done (§6).
  if (billed && (v.kind == Kind::kRetryable || v.kind == Kind::kThrottled)) {
    FUZZ_CHECK(answer.shape == ds::Answer::Shape::kDashScope ||
               (answer.shape == ds::Answer::Shape::kTransport && !answer.may_have_been_sent));
  }
  if (answer.shape == ds::Answer::Shape::kTaskFailure) FUZZ_CHECK(v.kind == Kind::kTerminal);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const int http_status = (in.Byte() << 8 | in.Byte()) % 700;
  const uint8_t flags = in.Byte();
  const ds::CallKind call = flags % 3 == 0   ? ds::CallKind::kFree
                            : flags % 3 == 1 ? ds::CallKind::kBilled
                                             : ds::CallKind::kDownload;
  const int64_t retry_after_ms = static_cast<int64_t>(in.U64() >> 1) % (int64_t{1} << 50);
  const absl::string_view body = in.Rest();

  bool from_dashscope = false;
  ds::UpstreamError error = ds::ParseErrorResponse(http_status, body, &from_dashscope);
  FUZZ_CHECK(error.http_status == http_status);
  FUZZ_CHECK(!error.code.empty());
  if (!from_dashscope) {
    FUZZ_CHECK(error.code == "Unknown");
    FUZZ_CHECK(error.request_id.empty());
    // A short, printable excerpt: never the whole page, never raw control bytes.
    FUZZ_CHECK(error.message.size() <= 16 + 4 * 200);
    for (char c : error.message) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
  }

  const ds::Answer answer{from_dashscope ? ds::Answer::Shape::kDashScope
                                         : ds::Answer::Shape::kForeign,
                          http_status, error.code};
  ds::Classify(call, answer, error);
  const ds::Verdict verdict = ds::Classify(call, answer);
  FUZZ_CHECK(error.kind == verdict.kind && error.caller_may_retry == verdict.caller_may_retry &&
             error.status_code == verdict.status_code);
  CheckVerdict(call, answer, verdict);
  if (!from_dashscope && call == ds::CallKind::kBilled &&
      (http_status == 408 || http_status == 429 || http_status >= 500)) {
    FUZZ_CHECK(verdict.kind == Kind::kOutcomeUnknown);  // a proxy gave up: the work may exist
  }
  // The same code under every other shape the classification knows.
  for (auto shape : {ds::Answer::Shape::kTransport, ds::Answer::Shape::kTooLarge,
                     ds::Answer::Shape::kMalformed, ds::Answer::Shape::kDashScope,
                     ds::Answer::Shape::kForeign, ds::Answer::Shape::kTaskFailure}) {
    for (bool sent : {false, true}) {
      const ds::Answer other{shape, http_status, error.code, sent};
      CheckVerdict(call, other, ds::Classify(call, other));
    }
  }

  // The error survives absl::Status; upstream strings only when they are valid UTF-8 (the
  // payload's JSON replaces the rest).
  if (flags & 4) error.retry_after = absl::Milliseconds(retry_after_ms);
  const absl::Status status = ds::UpstreamErrorStatus(error);
  FUZZ_CHECK(status.code() == error.status_code);
  std::optional<ds::UpstreamError> back = ds::GetUpstreamError(status);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back->kind == error.kind && back->caller_may_retry == error.caller_may_retry &&
             back->status_code == error.status_code && back->http_status == error.http_status);
  FUZZ_CHECK(back->retry_after == error.retry_after);
  for (auto [got, want] : {std::pair{&back->code, &error.code},
                           std::pair{&back->message, &error.message},
                           std::pair{&back->request_id, &error.request_id}}) {
    if (IsUtf8(*want)) FUZZ_CHECK(*got == *want);
  }
  return 0;
}

}  // namespace qwenimage::fuzz
