#include "service/dashscope/download_policy.h"

#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

TEST(CheckDownloadUrlTest, DefaultPolicy) {
  DownloadPolicy policy;
  for (const char* ok : {
           "https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/x.png?Expires=1",
           "https://dashscope-7c2c.oss-cn-shanghai.aliyuncs.com/7d/93/a.png",
           "HTTPS://X.ALIYUNCS.COM/a.png",
           "https://x.aliyuncs.com:443/a.png",
       }) {
    EXPECT_TRUE(CheckDownloadUrl(policy, ok).ok()) << ok;
  }
  for (const char* bad : {
           "http://x.aliyuncs.com/a.png",                  // not https
           "https://aliyuncs.com.evil.net/a.png",          // suffix elsewhere
           "https://evilaliyuncs.com/a.png",               // no dot boundary
           "https://aliyuncs.com/a.png",                   // the bare suffix
           "https://x.aliyuncs.com@evil.net/a.png",        // userinfo trick
           "https://127.0.0.1/a.png",                      // loopback not allowed
           "file:///etc/passwd",
           "x.aliyuncs.com/a.png",
           "https:///a.png",
       }) {
    EXPECT_FALSE(CheckDownloadUrl(policy, bad).ok()) << bad;
  }
}

TEST(CheckDownloadUrlTest, Loopback) {
  DownloadPolicy policy;
  policy.allow_loopback = true;
  for (const char* ok : {"http://127.0.0.1:8080/a.png", "https://127.5.6.7/a", "http://localhost/a",
                         "http://[::1]:9000/a", "https://x.aliyuncs.com/a"}) {
    EXPECT_TRUE(CheckDownloadUrl(policy, ok).ok()) << ok;
  }
  for (const char* bad : {"http://128.0.0.1/a", "http://127.0.0.1.evil.net/a", "http://10.0.0.1/a",
                          "ftp://127.0.0.1/a", "http://localhost.evil.net/a"}) {
    EXPECT_FALSE(CheckDownloadUrl(policy, bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace qwenimage::dashscope
