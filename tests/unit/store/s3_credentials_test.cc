// The --s3_credentials_file format, and that no error quotes a line (it may hold the secret).
#include "service/store/s3_credentials.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(S3CredentialsTest, ReadsBothNamesWithCommentsAndBlankLines) {
  absl::StatusOr<S3Credentials> c = ParseS3Credentials(
      "# OSS RAM user\n\n  access_key_id = LTAI5tEXAMPLE \r\nsecret_access_key=s3cr/et+Key=\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "LTAI5tEXAMPLE");
  EXPECT_EQ(c->secret_access_key, "s3cr/et+Key=");
}

TEST(S3CredentialsTest, RefusesBrokenFilesWithoutQuotingThem) {
  for (const char* bad : {
           "", "access_key_id=a\n", "secret_access_key=topsecret\n",
           "access_key_id=a\nsecret_acces_key=topsecret\n",
           "access_key_id=a\nsecret_access_key=top secret\n",
           "access_key_id=a\nsecret_access_key=\n", "topsecret\naccess_key_id=a\n",
           "access_key_id=a\naccess_key_id=b\nsecret_access_key=topsecret\n"}) {
    absl::StatusOr<S3Credentials> c = ParseS3Credentials(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << bad;
    EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("topsecret"))) << bad;
  }
}

TEST(S3CredentialsTest, AMissingFileIsAFailedPrecondition) {
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ReadS3CredentialsFile("/nonexistent/qwenimage/s3.creds").status()));
}

}  // namespace
}  // namespace qwenimage::store
