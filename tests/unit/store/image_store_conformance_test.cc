// One ImageStore contract, run against every implementation: DirImageStore on a fresh directory,
// and S3ImageStore on a fresh bucket of a real S3-protocol server (s3rver, with SigV4 checked;
// tests/testing/s3_server.h) in path-style and virtual-hosted style. Without node/s3rver the S3
// cases print SKIP, except with CI=true, where they fail.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/dir_image_store.h"
#include "service/store/image_store.h"
#include "service/store/s3_image_store.h"
#include "tests/testing/s3_server.h"
#include "tests/unit/store/scoped_test_dir.h"

namespace qwenimage::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

enum class Kind { kDir, kS3PathStyle, kS3VirtualHosted };

std::string KindName(const ::testing::TestParamInfo<Kind>& info) {
  switch (info.param) {
    case Kind::kDir:
      return "Dir";
    case Kind::kS3PathStyle:
      return "S3PathStyle";
    case Kind::kS3VirtualHosted:
      return "S3VirtualHosted";
  }
  return "Unknown";
}

// Bytes that are not text: every byte value, in a pattern that does not repeat at range edges.
std::string Binary(size_t size, int seed) {
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < size; ++i) out.push_back(static_cast<char>((i * 7 + seed) % 256));
  return out;
}

class ImageStoreConformanceTest : public ::testing::TestWithParam<Kind> {
 protected:
  // S3 readers fetch ranges of this size, so that a 10 KB image takes several ranged GETs.
  static constexpr size_t kS3ReadBuffer = 4096;

  void SetUp() override {
    if (GetParam() == Kind::kDir) {
      dir_ = std::make_unique<ScopedTestDir>();
      absl::StatusOr<std::unique_ptr<DirImageStore>> store =
          DirImageStore::Open((dir_->path() / "images").string());
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
      return;
    }
    testing::S3Server* server = testing::SharedS3ServerOrSkip();
    if (server == nullptr) return;  // skipped or failed
    absl::StatusOr<std::string> bucket = server->CreateBucket();
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    S3ImageStore::Options o;
    o.path_style = GetParam() == Kind::kS3PathStyle;
    o.endpoint = o.path_style ? server->endpoint() : server->vhost_endpoint();
    o.bucket = *bucket;
    o.region = testing::S3Server::kRegion;
    o.credentials = {testing::S3Server::kAccessKeyId, testing::S3Server::kSecretAccessKey};
    o.read_buffer_bytes = kS3ReadBuffer;
    // DeleteTask must follow continuation tokens (s3rver does not page CommonPrefixes, so
    // ListTaskIds gets one page there; both share S3ImageStore's paging code).
    o.list_max_keys = 2;
    absl::StatusOr<std::unique_ptr<S3ImageStore>> store = S3ImageStore::Create(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string ReadAll(ImageReader& reader, size_t piece) {
    std::string out;
    for (int guard = 0; guard < 100000; ++guard) {
      absl::StatusOr<std::string> next = reader.Read(piece);
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || next->empty()) break;
      EXPECT_LE(next->size(), piece);
      out += *next;
    }
    return out;
  }

  std::unique_ptr<ScopedTestDir> dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST_P(ImageStoreConformanceTest, PutThenGetReturnsTheSameBytes) {
  const std::string png = Binary(10000, 1);
  ASSERT_TRUE(store_->Put("task_1", 0, png).ok());
  ASSERT_TRUE(store_->Put("task_1", 1, "second").ok());
  EXPECT_EQ(*store_->Get("task_1", 0), png);
  EXPECT_EQ(*store_->Get("task_1", 1), "second");
}

TEST_P(ImageStoreConformanceTest, PutReplacesTheOldCopy) {
  ASSERT_TRUE(store_->Put("t", 0, "old bytes").ok());
  ASSERT_TRUE(store_->Put("t", 0, "new").ok());
  EXPECT_EQ(*store_->Get("t", 0), "new");
}

TEST_P(ImageStoreConformanceTest, GetAndOpenOfAMissingImageAreNotFound) {
  ASSERT_TRUE(store_->Put("t", 0, "x").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Get("t", 1).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Get("other", 0).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Open("t", 1).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Open("other", 0).status()));
}

TEST_P(ImageStoreConformanceTest, OpenReadsTheImageInPiecesOfAtMostTheAskedSize) {
  // Larger than two S3 ranges and not a multiple of either the range or the piece size.
  const std::string image = Binary(3 * kS3ReadBuffer + 123, 5);
  ASSERT_TRUE(store_->Put("t", 0, image).ok());
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = store_->Open("t", 0);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), static_cast<int64_t>(image.size()));
  EXPECT_EQ(ReadAll(**reader, 1000), image);
  // Past the end it keeps answering "nothing more".
  absl::StatusOr<std::string> after = (*reader)->Read(10);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(*after, IsEmpty());
}

TEST_P(ImageStoreConformanceTest, OpenReadsPiecesLargerThanOneRange) {
  const std::string image = Binary(2 * kS3ReadBuffer + 1, 9);
  ASSERT_TRUE(store_->Put("t", 3, image).ok());
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = store_->Open("t", 3);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(ReadAll(**reader, 64 * 1024), image);
}

TEST_P(ImageStoreConformanceTest, DeleteTaskRemovesEveryImageOfThatTaskOnly) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Put("gone", i, absl::StrCat("img", i)).ok());
  ASSERT_TRUE(store_->Put("kept", 0, "stays").ok());
  ASSERT_TRUE(store_->DeleteTask("gone").ok()) << store_->DeleteTask("gone");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(absl::IsNotFound(store_->Get("gone", i).status()));
  EXPECT_EQ(*store_->Get("kept", 0), "stays");
  // Deleting what is not there is fine.
  EXPECT_TRUE(store_->DeleteTask("gone").ok());
  EXPECT_TRUE(store_->DeleteTask("never_existed").ok());
}

TEST_P(ImageStoreConformanceTest, ListTaskIdsIsSortedAndSkipsDeletedTasks) {
  absl::StatusOr<std::vector<std::string>> empty = store_->ListTaskIds();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(*empty, IsEmpty());
  for (const char* id : {"t5", "t1", "t3", "t2", "t4"}) ASSERT_TRUE(store_->Put(id, 0, "x").ok());
  ASSERT_TRUE(store_->Put("t3", 1, "y").ok());
  ASSERT_TRUE(store_->DeleteTask("t4").ok());
  absl::StatusOr<std::vector<std::string>> ids = store_->ListTaskIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("t1", "t2", "t3", "t5"));
}

TEST_P(ImageStoreConformanceTest, IdsThatCouldEscapeTheStoreAreInvalid) {
  for (const char* bad : {"", "../x", "a/b", "a b", "a%2fb", "."}) {
    EXPECT_TRUE(absl::IsInvalidArgument(store_->Put(bad, 0, "x"))) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(store_->Get(bad, 0).status())) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(store_->Open(bad, 0).status())) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(store_->DeleteTask(bad))) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Put("t", -1, "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Get("t", -1).status()));
}

INSTANTIATE_TEST_SUITE_P(AllStores, ImageStoreConformanceTest,
                         ::testing::Values(Kind::kDir, Kind::kS3PathStyle,
                                           Kind::kS3VirtualHosted),
                         KindName);

}  // namespace
}  // namespace qwenimage::store
