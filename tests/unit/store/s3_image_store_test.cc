// S3ImageStore beyond the common contract: URL building for both addressing styles, errors for
// a wrong secret or key, a corrupted upload caught by the sha256 check (by S3 itself) and by the
// ETag check (a server that does not verify payloads), an image replaced while a reader is open,
// and presigned GETs that work without credentials until they expire. Against s3rver
// (tests/testing/s3_server.h); the URL tests need no server.
#include "service/store/s3_image_store.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/clock.h"
#include "tests/testing/s3_server.h"

namespace qwenimage::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kWrongSecret[] = "wrong-secret-7d1c0b";

S3ImageStore::Options BaseOptions() {
  S3ImageStore::Options o;
  o.endpoint = "http://127.0.0.1:9000";
  o.bucket = "qwen-images";
  o.region = "us-east-1";
  o.credentials = {"AKID", "SECRET"};
  return o;
}

TEST(S3ImageStoreUrlTest, PathStylePutsTheBucketInThePath) {
  absl::StatusOr<std::unique_ptr<S3ImageStore>> store = S3ImageStore::Create(BaseOptions());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->ObjectUrl("task_1", 2), "http://127.0.0.1:9000/qwen-images/tasks/task_1/2.png");
}

TEST(S3ImageStoreUrlTest, VirtualHostedStylePutsTheBucketInTheHost) {
  S3ImageStore::Options o = BaseOptions();
  o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
  o.region = "cn-hangzhou";
  o.path_style = false;
  absl::StatusOr<std::unique_ptr<S3ImageStore>> store = S3ImageStore::Create(o);
  ASSERT_TRUE(store.ok()) << store.status();
  // The default port is left out, as the Host header a client sends leaves it out.
  EXPECT_EQ((*store)->ObjectUrl("t", 0),
            "https://qwen-images.oss-cn-hangzhou.aliyuncs.com/tasks/t/0.png");
  const DownloadUrl url = (*store)->PresignGet("t", 0, absl::FromUnixSeconds(1700000000),
                                               absl::Minutes(10));
  EXPECT_THAT(url.url, StartsWith("https://qwen-images.oss-cn-hangzhou.aliyuncs.com/tasks/t/"
                                  "0.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                                  "AKID%2F20231114%2Fcn-hangzhou%2Fs3%2Faws4_request&"));
  EXPECT_THAT(url.url, HasSubstr("&X-Amz-Expires=600&"));
  EXPECT_EQ(url.expire_time, absl::FromUnixSeconds(1700000600));
}

TEST(S3ImageStoreUrlTest, RefusesOptionsItCannotUse) {
  struct Case {
    const char* why;
    void (*edit)(S3ImageStore::Options&);
  } cases[] = {
      {"no scheme", [](S3ImageStore::Options& o) { o.endpoint = "127.0.0.1:9000"; }},
      {"ftp", [](S3ImageStore::Options& o) { o.endpoint = "ftp://example.com"; }},
      {"a path", [](S3ImageStore::Options& o) { o.endpoint = "http://example.com/s3"; }},
      {"user info", [](S3ImageStore::Options& o) { o.endpoint = "http://a:b@example.com"; }},
      {"bucket case", [](S3ImageStore::Options& o) { o.bucket = "Qwen"; }},
      {"bucket short", [](S3ImageStore::Options& o) { o.bucket = "q"; }},
      {"region", [](S3ImageStore::Options& o) { o.region = "us east"; }},
      {"no secret", [](S3ImageStore::Options& o) { o.credentials.secret_access_key.clear(); }},
      {"ttl", [](S3ImageStore::Options& o) { o.presign_ttl = absl::Hours(24 * 8); }},
      {"vhost on an IP",
       [](S3ImageStore::Options& o) {
         o.path_style = false;
         o.endpoint = "http://127.0.0.1:9000";
       }},
  };
  for (const Case& c : cases) {
    S3ImageStore::Options o = BaseOptions();
    c.edit(o);
    absl::StatusOr<std::unique_ptr<S3ImageStore>> store = S3ImageStore::Create(o);
    EXPECT_TRUE(absl::IsInvalidArgument(store.status())) << c.why << ": " << store.status();
    EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("SECRET"))) << c.why;
  }
}

class FixedClock final : public Clock {
 public:
  explicit FixedClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }

 private:
  absl::Time now_;
};

class S3ImageStoreTest : public ::testing::TestWithParam<bool /*path_style*/> {
 protected:
  void SetUp() override { server_ = testing::SharedS3ServerOrSkip(); }

  // A store on a fresh bucket of `server`.
  std::unique_ptr<S3ImageStore> MakeStore(testing::S3Server& server,
                                          void (*edit)(S3ImageStore::Options&) = nullptr) {
    absl::StatusOr<std::string> bucket = server.CreateBucket();
    EXPECT_TRUE(bucket.ok()) << bucket.status();
    S3ImageStore::Options o;
    o.path_style = GetParam();
    o.endpoint = o.path_style ? server.endpoint() : server.vhost_endpoint();
    o.bucket = bucket.ok() ? *bucket : "missing";
    o.region = testing::S3Server::kRegion;
    o.credentials = {testing::S3Server::kAccessKeyId, testing::S3Server::kSecretAccessKey};
    o.read_buffer_bytes = 1024;
    if (edit != nullptr) edit(o);
    absl::StatusOr<std::unique_ptr<S3ImageStore>> store = S3ImageStore::Create(std::move(o));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  testing::S3Server* server_ = nullptr;
};

TEST_P(S3ImageStoreTest, AWrongSecretIsPermissionDeniedAndNeverQuoted) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> good = MakeStore(*server_);
  ASSERT_NE(good, nullptr);
  ASSERT_TRUE(good->Put("t", 0, "image").ok());
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    o.credentials.secret_access_key = kWrongSecret;
  });
  ASSERT_NE(store, nullptr);
  const absl::Status put = store->Put("t", 0, "image");
  const absl::Status get = store->Get("t", 0).status();
  const absl::Status list = store->ListTaskIds().status();
  for (const absl::Status& s : {put, get, list}) {
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("SignatureDoesNotMatch"));
    EXPECT_THAT(std::string(s.message()), HasSubstr("secret_access_key"));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kWrongSecret)));
  }
}

TEST_P(S3ImageStoreTest, AnUnknownAccessKeyIsPermissionDenied) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    o.credentials.access_key_id = "NOBODY";
  });
  ASSERT_NE(store, nullptr);
  const absl::Status s = store->Put("t", 0, "image");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("InvalidAccessKeyId"));
}

TEST_P(S3ImageStoreTest, AMissingBucketIsAConfigurationError) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    o.bucket = "no-such-bucket-here";
  });
  ASSERT_NE(store, nullptr);
  const absl::Status s = store->Get("t", 0).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("no-such-bucket-here does not exist"));
}

TEST_P(S3ImageStoreTest, AnUploadCorruptedOnTheWayIsRefusedByTheSha256Check) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    o.mutate_upload_for_test = [](std::string& body) { body[0] ^= 1; };
  });
  ASSERT_NE(store, nullptr);
  const absl::Status s = store->Put("t", 0, "the image bytes");
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("XAmzContentSHA256Mismatch"));
  EXPECT_TRUE(absl::IsNotFound(store->Get("t", 0).status()));
}

TEST_P(S3ImageStoreTest, AnUploadCorruptedOnTheWayIsCaughtByTheETagWhereTheServerStoresIt) {
  // Plain s3rver checks no payload hash: it stores the corrupted bytes, and only the ETag (the
  // stored object's MD5) tells.
  testing::S3Server* plain = testing::SharedS3ServerOrSkip(/*verify_signatures=*/false);
  if (plain == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*plain, [](S3ImageStore::Options& o) {
    o.mutate_upload_for_test = [](std::string& body) { body[0] ^= 1; };
  });
  ASSERT_NE(store, nullptr);
  const absl::Status s = store->Put("t", 0, "the image bytes");
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("ETag"));
  // The corrupted object was removed again.
  EXPECT_TRUE(absl::IsNotFound(store->Get("t", 0).status()));
}

TEST_P(S3ImageStoreTest, AnImageReplacedWhileAReaderIsOpenAbortsTheReader) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t", 0, std::string(3000, 'a')).ok());
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = store->Open("t", 0);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::string> first = (*reader)->Read(1024);  // the first range, already here
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, std::string(1024, 'a'));
  ASSERT_TRUE(store->Put("t", 0, std::string(3000, 'b')).ok());
  absl::StatusOr<std::string> next = (*reader)->Read(1024);
  EXPECT_TRUE(absl::IsAborted(next.status())) << next.status();
}

TEST_P(S3ImageStoreTest, APresignedGetReturnsTheBytesWithoutCredentials) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_);
  ASSERT_NE(store, nullptr);
  const std::string image = "\x89PNG\r\n\x1a\n presigned";
  ASSERT_TRUE(store->Put("t", 0, image).ok());
  const DownloadUrl url = store->PresignGet("t", 0, absl::Now(), absl::Minutes(5));
  auto got = testing::S3Server::AnonymousGet(url.url);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->first, 200) << got->second;
  EXPECT_EQ(got->second, image);
  // Without the signature, the same object is not public.
  auto anonymous = testing::S3Server::AnonymousGet(store->ObjectUrl("t", 0));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->first, 403);
}

TEST_P(S3ImageStoreTest, AnExpiredPresignedGetIsRefused) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t", 0, "image").ok());
  // Signed two hours ago for one minute.
  const DownloadUrl url =
      store->PresignGet("t", 0, absl::Now() - absl::Hours(2), absl::Minutes(1));
  EXPECT_LT(url.expire_time, absl::Now());
  auto got = testing::S3Server::AnonymousGet(url.url);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->first, 403);
  EXPECT_THAT(got->second, HasSubstr("Request has expired"));
}

TEST_P(S3ImageStoreTest, APresignedUrlForAnotherObjectDoesNotOpenThisOne) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t", 0, "zero").ok());
  ASSERT_TRUE(store->Put("t", 1, "one").ok());
  const DownloadUrl url = store->PresignGet("t", 0, absl::Now(), absl::Minutes(5));
  auto got = testing::S3Server::AnonymousGet(absl::StrReplaceAll(url.url, {{"/0.png?", "/1.png?"}}));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->first, 403);
  EXPECT_THAT(got->second, HasSubstr("SignatureDoesNotMatch"));
}

TEST_P(S3ImageStoreTest, SignDownloadUrlUsesTheConfiguredTtlAndClock) {
  if (server_ == nullptr) return;
  static FixedClock clock(absl::Now());
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    o.presign_ttl = absl::Minutes(15);
    o.clock = &clock;
  });
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t", 0, "signed").ok());
  absl::StatusOr<DownloadUrl> url = store->SignDownloadUrl("t", 0);
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->expire_time,
            absl::FromUnixSeconds(absl::ToUnixSeconds(clock.Now())) + absl::Minutes(15));
  auto got = testing::S3Server::AnonymousGet(url->url);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->second, "signed");

  std::unique_ptr<S3ImageStore> off = MakeStore(*server_);
  ASSERT_NE(off, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(off->SignDownloadUrl("t", 0).status()));
}

TEST_P(S3ImageStoreTest, AServerThatIsGoneIsUnavailable) {
  if (server_ == nullptr) return;
  std::unique_ptr<S3ImageStore> store = MakeStore(*server_, [](S3ImageStore::Options& o) {
    // Port 1 on loopback: nothing listens there.
    o.endpoint = o.path_style ? "http://127.0.0.1:1" : "http://s3.localhost:1";
  });
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(absl::IsUnavailable(store->Put("t", 0, "x"))) << store->Put("t", 0, "x");
}

INSTANTIATE_TEST_SUITE_P(BothStyles, S3ImageStoreTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "PathStyle" : "VirtualHosted";
                         });

}  // namespace
}  // namespace qwenimage::store
