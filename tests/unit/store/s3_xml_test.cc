// The S3 XML reader: ListObjectsV2 pages as AWS, OSS and s3rver write them, entities and CDATA,
// and replies it must refuse rather than misread.
#include "service/store/s3_xml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(S3XmlTest, ReadsCommonPrefixesNotTheEchoedPrefix) {
  absl::StatusOr<ListObjectsPage> page = ParseListObjectsV2(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>tasks/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
      "<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<CommonPrefixes><Prefix>tasks/a/</Prefix></CommonPrefixes>\n"
      "<CommonPrefixes><Prefix>tasks/b/</Prefix></CommonPrefixes>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->common_prefixes, ElementsAre("tasks/a/", "tasks/b/"));
  EXPECT_THAT(page->keys, IsEmpty());
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3XmlTest, ReadsKeysWithEntitiesAndCdata) {
  absl::StatusOr<ListObjectsPage> page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>tasks/t/0.png</Key><ETag>&quot;5d41&quot;</ETag><Size>5</Size></Contents>"
      "<!-- a comment --><Contents><Key>a&amp;b&#x41;&#66;&lt;</Key></Contents>"
      "<Contents><Key><![CDATA[x<y]]></Key><Owner/></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->keys, ElementsAre("tasks/t/0.png", "a&bAB<", "x<y"));
  EXPECT_FALSE(page->truncated);
}

TEST(S3XmlTest, RefusesWhatItCannotReadSafely) {
  for (const char* bad : {
           "", "not xml", "<ListBucketResult>", "<ListBucketResult></Other>",
           "<Error><Code>x</Code></Error>",
           "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
           "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
           "<ListBucketResult><Key>&bogus;</Key></ListBucketResult>",
           "<ListBucketResult><Key>&#0;</Key></ListBucketResult>",
           "<ListBucketResult><Key>&#xD800;</Key></ListBucketResult>",
           "<!DOCTYPE x [<!ENTITY a \"b\">]><ListBucketResult/>",
           "<ListBucketResult/><ListBucketResult/>", "text<ListBucketResult/>",
           "<ListBucketResult><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"}) {
    EXPECT_FALSE(ParseListObjectsV2(bad).ok()) << bad;
  }
}

TEST(S3XmlTest, ReadsErrorBodies) {
  S3ErrorBody e = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>k</Key></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(ParseS3Error("<html>502 Bad Gateway</html>").code, "");
  EXPECT_EQ(ParseS3Error("garbage").code, "");
  // Control characters never reach a message.
  EXPECT_EQ(ParseS3Error("<Error><Code>A&#10;B</Code></Error>").code, "A?B");
}

}  // namespace
}  // namespace qwenimage::store
