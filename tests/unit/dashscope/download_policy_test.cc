#include "service/dashscope/download_policy.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CheckDownloadUrlTest, DefaultPolicy) {
  DownloadPolicy policy;
  for (const char* ok : {
           "https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/x.png?Expires=1",
           "https://dashscope-7c2c.oss-cn-shanghai.aliyuncs.com/7d/93/a.png",
           "HTTPS://X.ALIYUNCS.COM/a.png",
           "https://x.aliyuncs.com:443/a.png",
           "https://aliyuncs.com/a.png",     // the entry itself, as a whole name
           "https://%78.aliyuncs.com/a.png",  // curl decodes the host to x.aliyuncs.com
           "https://x.aliyuncs.com/a%20b.png?Signature=a%2Bb#frag",
       }) {
    EXPECT_TRUE(CheckDownloadUrl(policy, ok).ok()) << ok << ": " << CheckDownloadUrl(policy, ok);
  }
  for (const char* bad : {
           "http://x.aliyuncs.com/a.png",                  // not https
           "https://x.aliyuncs.com:8443/a.png",            // not 443
           "https://aliyuncs.com.evil.net/a.png",          // the entry elsewhere
           "https://evilaliyuncs.com/a.png",               // not a whole label
           "https://x.evilaliyuncs.com/a.png",
           "https://x.aliyuncs.com@evil.net/a.png",        // userinfo trick
           "https://user:pw@x.aliyuncs.com/a.png",         // any userinfo
           "https://x.aliyuncs.com./a.png",                // trailing dot
           "https://x..aliyuncs.com/a.png",                // empty label
           "https://x_y.aliyuncs.com/a.png",               // not letter-digit-hyphen
           "https://127.0.0.1/a.png",                      // loopback not allowed
           "https://0x7f.1/a.png",                         // the same, as curl reads it
           "https://169.254.169.254/latest/meta-data",
           "https://[::1]/a.png",
           "file:///etc/passwd",
           "ftp://x.aliyuncs.com/a.png",
           "x.aliyuncs.com/a.png",                         // no scheme: never guessed
           "https:///a.png",
           "",
       }) {
    EXPECT_FALSE(CheckDownloadUrl(policy, bad).ok()) << bad;
  }
}

TEST(CheckDownloadUrlTest, RefusesBytesParsersDisagreeOn) {
  DownloadPolicy policy;
  const std::string nul("https://x.aliyuncs.com\0.evil.net/a.png", 38);
  for (const std::string& bad : {
           nul,
           std::string("https://x.aliyuncs.com/a\x01.png"),
           std::string("https://x.aliyuncs.com/a\x7f.png"),
           std::string("https://x.aliyuncs.com/a\r\nHost: evil.net"),
           std::string("https://x.aliyuncs.com/a b.png"),
           std::string("https://evil.net\\@x.aliyuncs.com/a.png"),
           std::string("https://evil.net\\.x.aliyuncs.com/a.png"),
           std::string("\thttps://x.aliyuncs.com/a.png"),
       }) {
    absl::Status status = CheckDownloadUrl(policy, bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CheckDownloadUrlTest, AllowlistEntriesMatchWholeLabels) {
  DownloadPolicy policy;
  policy.host_suffixes = {"Example.COM", "", ".", ".oss.test"};
  for (const char* ok : {"https://example.com/a", "https://a.b.example.com/a",
                         "https://oss.test/a", "https://bucket.oss.test/a"}) {
    EXPECT_TRUE(CheckDownloadUrl(policy, ok).ok()) << ok;
  }
  // Empty entries ("", ".") must not admit every host.
  for (const char* bad : {"https://notexample.com/a", "https://example.com.evil/a",
                          "https://evil.net/a", "https://xoss.test/a", "https://1.2.3.4/a"}) {
    EXPECT_FALSE(CheckDownloadUrl(policy, bad).ok()) << bad;
  }
  policy.host_suffixes = {"3.4"};  // an IP address never matches a name entry
  EXPECT_FALSE(CheckDownloadUrl(policy, "https://1.2.3.4/a").ok());
}

TEST(CheckDownloadUrlTest, ErrorsNeverEchoQueryOrUserInfo) {
  DownloadPolicy policy;
  for (const char* bad : {"http://x.aliyuncs.com/a.png?Signature=SECRET",
                          "https://evil.net/a.png?Signature=SECRET#SECRET",
                          "https://x.aliyuncs.com:8443/a.png?Signature=SECRET",
                          "https://SECRET:SECRET@x.aliyuncs.com/a.png?Signature=SECRET"}) {
    absl::Status status = CheckDownloadUrl(policy, bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_THAT(status.message(), Not(HasSubstr("SECRET"))) << status;
    EXPECT_THAT(status.message(), HasSubstr("/a.png")) << status;  // host/path do show
  }
  EXPECT_THAT(CheckDownloadUrl(policy, "https://evil.net/a.png").message(),
              HasSubstr("host \"evil.net\" is not in the download allowlist"));
}

TEST(CheckDownloadUrlTest, Loopback) {
  DownloadPolicy policy;
  policy.allow_loopback = true;
  for (const char* ok : {"http://127.0.0.1:8080/a.png", "https://127.5.6.7/a", "http://localhost/a",
                         "http://LOCALHOST:1234/a", "http://[::1]:9000/a", "http://0x7f.1:80/a",
                         "http://[::ffff:127.0.0.1]/a", "https://x.aliyuncs.com/a"}) {
    EXPECT_TRUE(CheckDownloadUrl(policy, ok).ok()) << ok << ": " << CheckDownloadUrl(policy, ok);
  }
  for (const char* bad : {"http://128.0.0.1/a", "http://127.0.0.1.evil.net/a", "http://10.0.0.1/a",
                          "ftp://127.0.0.1/a", "http://localhost.evil.net/a",
                          "http://x.localhost/a", "http://u@127.0.0.1/a",
                          "http://x.aliyuncs.com/a",  // loopback relaxes loopback hosts only
                          "https://x.aliyuncs.com:8443/a"}) {
    EXPECT_FALSE(CheckDownloadUrl(policy, bad).ok()) << bad;
  }
}

TEST(DownloadAddressPolicyTest, FollowsAllowLoopback) {
  DownloadPolicy policy;
  EXPECT_EQ(DownloadAddressPolicy(policy), http::AddressPolicy::kPublicOnly);
  policy.allow_loopback = true;
  EXPECT_EQ(DownloadAddressPolicy(policy), http::AddressPolicy::kPublicOrLoopback);
}

}  // namespace
}  // namespace qwenimage::dashscope
