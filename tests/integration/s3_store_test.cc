// The gateway with --image_store=s3 end to end, against s3rver with SigV4 checked
// (tests/testing/s3_server.h): generated images land in the bucket and ReadImage streams them
// back with the sha256 the task carries; with --s3_presign_ttl, GetTask and ReadImage hand out
// download URLs that serve the same bytes to a client without credentials.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/s3_image_store.h"
#include "service/store/sha256.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/s3_server.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class S3StoreGatewayTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    server_ = SharedS3ServerOrSkip();
    if (server_ == nullptr) return;
    absl::StatusOr<std::string> bucket = server_->CreateBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    bucket_ = *bucket;
    std::filesystem::create_directories(data_dir_);
    options_.image_store = "s3";
    options_.s3.endpoint = server_->endpoint();
    options_.s3.bucket = bucket_;
    options_.s3.region = S3Server::kRegion;
    options_.s3_credentials_file = data_dir_ + "/s3.credentials";
    std::ofstream(options_.s3_credentials_file)
        << "# s3rver's built-in account\naccess_key_id=" << S3Server::kAccessKeyId
        << "\nsecret_access_key=" << S3Server::kSecretAccessKey << "\n";
  }

  // The bucket as the gateway configured it, read directly.
  std::unique_ptr<store::S3ImageStore> Bucket() {
    store::S3ImageStore::Options o = options_.s3;
    o.credentials = {S3Server::kAccessKeyId, S3Server::kSecretAccessKey};
    absl::StatusOr<std::unique_ptr<store::S3ImageStore>> s3 = store::S3ImageStore::Create(o);
    EXPECT_TRUE(s3.ok()) << s3.status();
    return s3.ok() ? *std::move(s3) : nullptr;
  }

  v1::Task Generate(int n) {
    v1::GenerateImagesRequest req;
    *req.mutable_spec() = Spec("qwen-image-2.0", "two red apples", n, "768*512");
    v1::Task task;
    grpc::Status s = stub_->GenerateImages(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED);
    EXPECT_EQ(task.images_size(), n);
    return task;
  }

  S3Server* server_ = nullptr;
  std::string bucket_;
};

TEST_F(S3StoreGatewayTest, GeneratedImagesAreStoredInTheBucketAndReadBackIntact) {
  if (server_ == nullptr) return;
  StartGateway();
  const v1::Task task = Generate(2);
  std::unique_ptr<store::S3ImageStore> bucket = Bucket();
  ASSERT_NE(bucket, nullptr);
  for (const v1::Image& image : task.images()) {
    v1::Image meta;
    const std::string png = ReadImage(task.id(), image.index(), &meta);
    EXPECT_EQ(store::Sha256Hex(png), image.sha256());
    EXPECT_EQ(meta.sha256(), image.sha256());
    EXPECT_EQ(meta.size_bytes(), static_cast<int64_t>(png.size()));
    // In the bucket under tasks/<id>/<index>.png, not on local disk.
    absl::StatusOr<std::string> stored = bucket->Get(task.id(), image.index());
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(*stored, png);
    EXPECT_TRUE(image.download_url().empty());  // presigning is off
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(data_dir_) / "images"));
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).sync_generations, 1);
  absl::StatusOr<std::vector<std::string>> ids = bucket->ListTaskIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ::testing::ElementsAre(task.id()));
}

TEST_F(S3StoreGatewayTest, PresignedDownloadUrlsServeTheStoredBytesWithoutCredentials) {
  if (server_ == nullptr) return;
  options_.s3.presign_ttl = absl::Minutes(10);
  options_.s3.path_style = false;  // virtual-hosted, as on OSS
  options_.s3.endpoint = server_->vhost_endpoint();
  StartGateway();
  const absl::Time before = absl::Now();
  const v1::Task created = Generate(1);
  v1::GetTaskRequest get;
  get.set_task_id(created.id());
  v1::Task task;
  ASSERT_TRUE(stub_->GetTask(Context().get(), get, &task).ok());
  ASSERT_EQ(task.images_size(), 1);
  const v1::Image& image = task.images(0);
  EXPECT_THAT(image.download_url(),
              StartsWith(absl::StrCat("http://", bucket_, ".s3.localhost:", server_->port(),
                                      "/tasks/", task.id(), "/0.png?X-Amz-Algorithm=")));
  const absl::Time expires = absl::FromUnixSeconds(image.download_url_expire_time().seconds());
  EXPECT_GE(expires, absl::FromUnixSeconds(absl::ToUnixSeconds(before)) + absl::Minutes(10));
  EXPECT_LE(expires, absl::Now() + absl::Minutes(10));
  auto got = S3Server::AnonymousGet(image.download_url());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->first, 200);
  EXPECT_EQ(store::Sha256Hex(got->second), image.sha256());
  // ReadImage's metadata carries a URL too, and still streams the bytes.
  v1::Image meta;
  const std::string png = ReadImage(task.id(), 0, &meta);
  EXPECT_EQ(store::Sha256Hex(png), image.sha256());
  EXPECT_THAT(meta.download_url(), HasSubstr("X-Amz-Signature="));
}

TEST_F(S3StoreGatewayTest, AMissingCredentialsFileStopsTheStart) {
  if (server_ == nullptr) return;
  options_.s3_credentials_file = data_dir_ + "/absent.credentials";
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  EXPECT_TRUE(absl::IsFailedPrecondition(gw.status())) << gw.status();
  EXPECT_THAT(std::string(gw.status().message()), HasSubstr("--s3_credentials_file"));
}

TEST_F(S3StoreGatewayTest, AWrongSecretStopsTheStartWithoutQuotingIt) {
  if (server_ == nullptr) return;
  std::ofstream(options_.s3_credentials_file)
      << "access_key_id=" << S3Server::kAccessKeyId << "\nsecret_access_key=not-the-secret-4e1\n";
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  EXPECT_TRUE(absl::IsPermissionDenied(gw.status())) << gw.status();
  EXPECT_THAT(std::string(gw.status().message()), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(std::string(gw.status().message()), ::testing::Not(HasSubstr("not-the-secret")));
}

}  // namespace
}  // namespace qwenimage::testing
