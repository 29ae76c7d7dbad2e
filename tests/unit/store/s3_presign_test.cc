// The query-string SigV4 presigner against AWS's published example ("Authenticating Requests:
// Using Query Parameters", examplebucket/test.txt), and the SigV4 URI encoding.
#include "service/store/s3_presign.h"

#include "gtest/gtest.h"

namespace qwenimage::store {
namespace {

TEST(S3PresignTest, MatchesAwsPublishedExample) {
  PresignParams p;
  p.scheme = "https";
  p.host = "examplebucket.s3.amazonaws.com";
  p.path = "/test.txt";
  p.region = "us-east-1";
  p.now = absl::FromCivil(absl::CivilSecond(2013, 5, 24, 0, 0, 0), absl::UTCTimeZone());
  p.ttl = absl::Seconds(86400);
  EXPECT_EQ(PresignGetUrl({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, p),
            "https://examplebucket.s3.amazonaws.com/test.txt"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(S3PresignTest, TtlIsClampedToWhatSigV4Allows) {
  PresignParams p;
  p.scheme = "http";
  p.host = "127.0.0.1:9000";
  p.path = "/b/k";
  p.region = "us-east-1";
  p.now = absl::FromUnixSeconds(0);
  p.ttl = absl::Hours(24 * 30);
  EXPECT_NE(PresignGetUrl({"a", "b"}, p).find("&X-Amz-Expires=604800&"), std::string::npos);
  p.ttl = absl::ZeroDuration();
  EXPECT_NE(PresignGetUrl({"a", "b"}, p).find("&X-Amz-Expires=1&"), std::string::npos);
}

TEST(S3PresignTest, UriEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(S3UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(S3UriEncode("a/b c+d=e%", false), "a%2Fb%20c%2Bd%3De%25");
  EXPECT_EQ(S3UriEncode("tasks/a b/0.png", true), "tasks/a%20b/0.png");
  EXPECT_EQ(S3UriEncode("\xff\x01", false), "%FF%01");
}

}  // namespace
}  // namespace qwenimage::store
