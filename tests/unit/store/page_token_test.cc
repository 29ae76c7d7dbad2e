// Tests for page tokens: round trip, and rejection of malformed or re-targeted tokens.
// A rejected token must be INVALID_ARGUMENT, which the API reports against page_token.
#include "service/store/page_token.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace qwenimage::store {
namespace {

ListCursor Cursor() { return ListCursor{absl::FromUnixMicros(1764000000123456), "tsk_AbC-123"}; }

TEST(PageTokenTest, RoundTrip) {
  const std::string token = EncodePageToken(Cursor(), "filter-a");
  absl::StatusOr<ListCursor> decoded = DecodePageToken(token, "filter-a");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->create_time, Cursor().create_time);
  EXPECT_EQ(decoded->id, Cursor().id);
}

TEST(PageTokenTest, IsUrlSafe) {
  const std::string token = EncodePageToken(Cursor(), "filter-a");
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << token;
}

TEST(PageTokenTest, RoundTripBeforeEpoch) {
  const ListCursor cursor{absl::FromUnixMicros(-5), "x"};
  absl::StatusOr<ListCursor> decoded = DecodePageToken(EncodePageToken(cursor, ""), "");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->create_time, cursor.create_time);
}

TEST(PageTokenTest, DifferentFilterRejected) {
  const std::string token = EncodePageToken(Cursor(), "filter-a");
  absl::StatusOr<ListCursor> decoded = DecodePageToken(token, "filter-b");
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, MalformedRejected) {
  const std::string good = EncodePageToken(Cursor(), "f");
  for (const std::string& bad :
       {std::string(), std::string("!!!"), std::string("AAAA"), good.substr(0, 10),
        std::string("not base64 at all"), "A" + good}) {
    EXPECT_EQ(DecodePageToken(bad, "f").status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PageTokenTest, TamperedVersionRejected) {
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(EncodePageToken(Cursor(), "f"), &raw));
  raw[0] = '\x02';  // a version this build does not know
  EXPECT_EQ(DecodePageToken(absl::WebSafeBase64Escape(raw), "f").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, FilterFingerprintIgnoresCursorLimitAndStateOrder) {
  ListQuery a;
  a.tenant = "t";
  a.states = {qwenimage::v1::TASK_STATE_RUNNING, qwenimage::v1::TASK_STATE_QUEUED};
  a.model = "qwen-image";
  ListQuery b = a;
  b.states = {qwenimage::v1::TASK_STATE_QUEUED, qwenimage::v1::TASK_STATE_RUNNING,
              qwenimage::v1::TASK_STATE_QUEUED};
  b.limit = 7;
  b.after = Cursor();
  EXPECT_EQ(ListFilterFingerprint(a), ListFilterFingerprint(b));
}

TEST(PageTokenTest, FilterFingerprintSeesEveryFilter) {
  ListQuery base;
  base.tenant = "t";
  const std::string fp = ListFilterFingerprint(base);
  ListQuery q = base;
  q.tenant = "u";
  EXPECT_NE(ListFilterFingerprint(q), fp);
  q = base;
  q.model = "m";
  EXPECT_NE(ListFilterFingerprint(q), fp);
  q = base;
  q.states = {qwenimage::v1::TASK_STATE_FAILED};
  EXPECT_NE(ListFilterFingerprint(q), fp);
  q = base;
  q.created_at_or_after = absl::FromUnixSeconds(1);
  EXPECT_NE(ListFilterFingerprint(q), fp);
  q = base;
  q.created_before = absl::FromUnixSeconds(1);
  EXPECT_NE(ListFilterFingerprint(q), fp);
  // Length prefixes keep a tenant/model split from aliasing.
  ListQuery x, y;
  x.tenant = "a|";
  x.model = "b";
  y.tenant = "a";
  y.model = "|b";
  EXPECT_NE(ListFilterFingerprint(x), ListFilterFingerprint(y));
}

}  // namespace
}  // namespace qwenimage::store
