#include "service/logging/redact.h"

#include "gtest/gtest.h"

namespace qwenimage::logging {
namespace {

TEST(RedactTest, HidesApiKeys) {
  EXPECT_EQ(Redact("key sk-abc123DEF_456-x rejected"), "key sk-*** rejected");
}

TEST(RedactTest, HidesBearerTokens) {
  EXPECT_EQ(Redact("Authorization: Bearer eyJhbGciOi.J9x"), "Authorization: Bearer ***");
}

TEST(RedactTest, HidesSignedUrlQueryStrings) {
  EXPECT_EQ(Redact("download https://dashscope-result.oss.aliyuncs.com/a/b.png?Expires=17&"
                   "OSSAccessKeyId=LTAI&Signature=abc%2F failed"),
            "download https://dashscope-result.oss.aliyuncs.com/a/b.png?<redacted> failed");
}

TEST(RedactTest, LeavesOrdinaryTextAlone) {
  EXPECT_EQ(Redact("task abc: polling failed: 503 (why?)"), "task abc: polling failed: 503 (why?)");
}

TEST(RedactTest, PromptsOnlyWhenOptedIn) {
  EXPECT_EQ(LoggablePrompt("a red fox"), "<prompt: 9 bytes>");
  SetLogPrompts(true);
  EXPECT_EQ(LoggablePrompt("a red fox"), "a red fox");
  SetLogPrompts(false);
}

}  // namespace
}  // namespace qwenimage::logging
