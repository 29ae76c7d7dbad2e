// Tests for what a task keeps of upstream's error text: secrets redacted, length bounded.
#include "service/tasks/task_errors.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/types.h"

namespace qwenimage::tasks {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(UpstreamTextTest, RedactsKeysTokensAndSignedUrlQueries) {
  const std::string text = UpstreamText(
      "key sk-abc123DEF refused; Authorization: Bearer tok.en-1 ; see "
      "https://bucket.oss.aliyuncs.com/x.png?Signature=s3cr3t&Expires=1");
  EXPECT_THAT(text, Not(HasSubstr("abc123DEF")));
  EXPECT_THAT(text, Not(HasSubstr("tok.en-1")));
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(text, HasSubstr("https://bucket.oss.aliyuncs.com/x.png"));
}

TEST(UpstreamTextTest, BoundsTheLengthAtACharacterBoundary) {
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "\xC3\xA9";  // é, two bytes each
  const std::string text = UpstreamText(long_text);
  EXPECT_LE(text.size(), 512u + 3u);
  ASSERT_GE(text.size(), 3u);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
  const std::string kept = text.substr(0, text.size() - 3);
  EXPECT_EQ(kept.size() % 2, 0u) << "a character was cut in half";
}

TEST(UpstreamTextTest, ShortCleanTextIsKeptAsIs) {
  EXPECT_EQ(UpstreamText("Input data may contain inappropriate content."),
            "Input data may contain inappropriate content.");
}

TEST(UpstreamCallErrorTest, StoresTheRedactedMessage) {
  dashscope::UpstreamError error;
  error.code = "InvalidApiKey";
  error.message = "Invalid API-key provided: sk-live0123456789";
  error.http_status = 401;
  const v1::TaskError task_error = UpstreamCallError(dashscope::UpstreamErrorStatus(error));
  EXPECT_EQ(task_error.code(), "InvalidApiKey");
  EXPECT_THAT(task_error.message(), Not(HasSubstr("live0123456789")));
  EXPECT_THAT(task_error.message(), HasSubstr("sk-***"));
}

TEST(UpstreamTaskErrorTest, StoresTheRedactedMessage) {
  const v1::TaskError task_error =
      UpstreamTaskError("InternalError", "failed for sk-zzz999 at https://h/p?token=t0k", "r-1");
  EXPECT_THAT(task_error.message(), Not(HasSubstr("zzz999")));
  EXPECT_THAT(task_error.message(), Not(HasSubstr("t0k")));
  EXPECT_EQ(task_error.upstream_request_id(), "r-1");
}

}  // namespace
}  // namespace qwenimage::tasks
