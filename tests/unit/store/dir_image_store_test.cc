// Tests for DirImageStore: round trip, replacement, deletion, listing, and ids that could escape
// the root.
// Each test works in its own fresh directory under the gtest temp dir.
#include "service/store/dir_image_store.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/scoped_test_dir.h"

namespace qwenimage::store {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

void Touch(const fs::path& path) { std::ofstream(path) << "x"; }

class DirImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = dir_.path();
    root_ = (base_ / "images").string();
    absl::StatusOr<std::unique_ptr<DirImageStore>> store = DirImageStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  ScopedTestDir dir_;
  fs::path base_;
  std::string root_;
  std::unique_ptr<DirImageStore> store_;
};

TEST_F(DirImageStoreTest, PutThenGet) {
  const std::string png("\x89PNG\r\n\x1a\n\0binary", 14);
  ASSERT_TRUE(store_->Put("task_1", 0, png).ok());
  ASSERT_TRUE(store_->Put("task_1", 1, "second").ok());
  EXPECT_EQ(*store_->Get("task_1", 0), png);
  EXPECT_EQ(*store_->Get("task_1", 1), "second");
  EXPECT_TRUE(fs::exists(fs::path(root_) / "task_1" / "0.png"));
}

TEST_F(DirImageStoreTest, OpenReadsTheImageInPiecesOfAtMostTheAskedSize) {
  std::string image;
  for (int i = 0; i < 1000; ++i) image += static_cast<char>(i % 251);
  ASSERT_TRUE(store_->Put("t", 0, image).ok());
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = store_->Open("t", 0);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), 1000);
  std::string read;
  for (;;) {
    absl::StatusOr<std::string> piece = (*reader)->Read(64);
    ASSERT_TRUE(piece.ok()) << piece.status();
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 64u);
    read += *piece;
  }
  EXPECT_EQ(read, image);
}

TEST_F(DirImageStoreTest, AnOpenReaderKeepsItsBytesWhenTheTaskIsDeleted) {
  ASSERT_TRUE(store_->Put("t", 0, "kept").ok());
  absl::StatusOr<std::unique_ptr<ImageReader>> reader = store_->Open("t", 0);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(store_->DeleteTask("t").ok());
  EXPECT_EQ(*(*reader)->Read(100), "kept");
  EXPECT_EQ(absl::StatusCode::kNotFound, store_->Open("t", 0).status().code());
}

TEST_F(DirImageStoreTest, PutReplacesAndLeavesNoTempFiles) {
  ASSERT_TRUE(store_->Put("t", 0, "old").ok());
  ASSERT_TRUE(store_->Put("t", 0, "new").ok());
  EXPECT_EQ(*store_->Get("t", 0), "new");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(root_) / "t")) {
    EXPECT_EQ(entry.path().filename(), "0.png");
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(DirImageStoreTest, EmptyImage) {
  ASSERT_TRUE(store_->Put("t", 3, "").ok());
  EXPECT_EQ(*store_->Get("t", 3), "");
}

TEST_F(DirImageStoreTest, GetMissingIsNotFound) {
  EXPECT_EQ(store_->Get("nope", 0).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Put("t", 0, "x").ok());
  EXPECT_EQ(store_->Get("t", 1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DirImageStoreTest, DeleteTaskRemovesEverything) {
  ASSERT_TRUE(store_->Put("t", 0, "a").ok());
  ASSERT_TRUE(store_->Put("t", 1, "b").ok());
  ASSERT_TRUE(store_->Put("other", 0, "c").ok());
  ASSERT_TRUE(store_->DeleteTask("t").ok());
  EXPECT_EQ(store_->Get("t", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(fs::path(root_) / "t"));
  EXPECT_EQ(*store_->Get("other", 0), "c");
  // Deleting what is not there is fine.
  EXPECT_TRUE(store_->DeleteTask("t").ok());
  EXPECT_TRUE(store_->DeleteTask("never").ok());
}

TEST_F(DirImageStoreTest, PathTraversalRejected) {
  // A file beside the root that a traversal would reach.
  ASSERT_TRUE(store_->Put("victim", 0, "keep").ok());
  for (const std::string& id :
       {std::string(".."), std::string("../victim"), std::string("a/b"), std::string("."),
        std::string(""), std::string("/etc"), std::string("a\\b"), std::string("x y"),
        std::string("a\0b", 3), std::string(129, 'a')}) {
    EXPECT_EQ(store_->Put(id, 0, "x").code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(store_->Get(id, 0).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(store_->DeleteTask(id).code(), absl::StatusCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(*store_->Get("victim", 0), "keep");
  EXPECT_FALSE(fs::exists(base_ / "x"));
}

TEST_F(DirImageStoreTest, NegativeIndexRejected) {
  EXPECT_EQ(store_->Put("t", -1, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("t", -1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DirImageStoreTest, AcceptsUrlSafeIds) {
  ASSERT_TRUE(store_->Put("AZaz09_-", 0, "x").ok());
  EXPECT_EQ(*store_->Get("AZaz09_-", 0), "x");
}

TEST_F(DirImageStoreTest, ListTaskIdsEmpty) {
  absl::StatusOr<std::vector<std::string>> ids = store_->ListTaskIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, IsEmpty());
}

TEST_F(DirImageStoreTest, ListTaskIdsSortedAndFollowsDeletes) {
  ASSERT_TRUE(store_->Put("zeta", 0, "a").ok());
  ASSERT_TRUE(store_->Put("alpha", 2, "b").ok());
  ASSERT_TRUE(store_->Put("alpha", 0, "c").ok());
  ASSERT_TRUE(store_->Put("mid_1-x", 10, "d").ok());
  EXPECT_THAT(*store_->ListTaskIds(), ElementsAre("alpha", "mid_1-x", "zeta"));
  ASSERT_TRUE(store_->DeleteTask("mid_1-x").ok());
  EXPECT_THAT(*store_->ListTaskIds(), ElementsAre("alpha", "zeta"));
}

TEST_F(DirImageStoreTest, ListTaskIdsSkipsTempFilesAndForeignEntries) {
  ASSERT_TRUE(store_->Put("kept", 0, "x").ok());
  const fs::path root(root_);
  // A Put in progress (or one a crash interrupted) has only its dot-named temp file.
  fs::create_directory(root / "writing");
  Touch(root / "writing" / ".0.png.1234.0.tmp");
  // An empty directory: mkdir done, nothing renamed in yet.
  fs::create_directory(root / "empty");
  // Nothing named like an image.
  fs::create_directory(root / "other");
  Touch(root / "other" / "notes.txt");
  Touch(root / "other" / "x.png");
  Touch(root / "other" / ".png");
  // Not a directory, or not a task id.
  Touch(root / "stray");
  fs::create_directory(root / "not an id");
  Touch(root / "not an id" / "0.png");
  fs::create_directory(root / ".hidden");
  Touch(root / ".hidden" / "0.png");
  // A symlink to a task directory is not something Put makes.
  fs::create_directory_symlink(root / "kept", root / "link");

  EXPECT_THAT(*store_->ListTaskIds(), ElementsAre("kept"));

  // Once the write completes, the task is listed.
  Touch(root / "writing" / "0.png");
  EXPECT_THAT(*store_->ListTaskIds(), ElementsAre("kept", "writing"));
}

TEST_F(DirImageStoreTest, ListTaskIdsWithoutRootIsAnError) {
  fs::remove_all(root_);
  EXPECT_EQ(store_->ListTaskIds().status().code(), absl::StatusCode::kInternal);
}

TEST_F(DirImageStoreTest, OpenCreatesNestedRoot) {
  const std::string nested = (base_ / "a" / "b" / "c").string();
  absl::StatusOr<std::unique_ptr<DirImageStore>> store = DirImageStore::Open(nested);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(fs::is_directory(nested));
  ASSERT_TRUE((*store)->Put("t", 0, "x").ok());
}

}  // namespace
}  // namespace qwenimage::store
