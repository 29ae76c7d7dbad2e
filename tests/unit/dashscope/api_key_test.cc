#include "service/dashscope/api_key.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::dashscope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kOldKey[] = "sk-old-0123456789abcdef";
constexpr char kNewKey[] = "sk-new-fedcba9876543210";

// ------------------------------------------------------------------------------ the holder

TEST(ApiKeyTest, StartsAtGenerationZero) {
  ApiKey key(kOldKey);
  EXPECT_EQ(key.Get(), kOldKey);
  EXPECT_EQ(key.Previous(), "");
  EXPECT_EQ(key.generation(), 0u);
  EXPECT_EQ(ApiKey().Get(), "");
}

TEST(ApiKeyTest, SetReportsWhetherItChanged) {
  ApiKey key(kOldKey);
  EXPECT_FALSE(key.Set(kOldKey));
  EXPECT_EQ(key.generation(), 0u);
  EXPECT_TRUE(key.Set(kNewKey));
  EXPECT_EQ(key.Get(), kNewKey);
  EXPECT_EQ(key.Previous(), kOldKey);
  EXPECT_EQ(key.generation(), 1u);
  EXPECT_FALSE(key.Set(kNewKey));
  EXPECT_EQ(key.generation(), 1u);
  EXPECT_TRUE(key.Set(kOldKey));
  EXPECT_EQ(key.generation(), 2u);
  EXPECT_EQ(key.Previous(), kNewKey);
}

TEST(ApiKeyTest, RedactsCurrentAndPrevious) {
  ApiKey key("sk-abc");
  key.Set("sk-abcdef");  // the new key contains the old one: replaced whole
  EXPECT_EQ(key.Redact("a sk-abcdef b sk-abc c"), "a [redacted] b [redacted] c");
  key.Set("sk-xyz");  // "sk-abc" is no longer remembered
  EXPECT_EQ(key.Redact("sk-abc sk-abcdef sk-xyz"), "sk-abc [redacted] [redacted]");
  EXPECT_EQ(ApiKey().Redact("nothing to hide"), "nothing to hide");
}

TEST(ApiKeyTest, ListenersRunOutsideTheLockAfterEachChange) {
  ApiKey key(kOldKey);
  std::vector<std::pair<uint64_t, std::string>> seen;
  // Reading the holder from the listener would deadlock were a lock held.
  key.Subscribe([&](uint64_t generation) { seen.emplace_back(generation, key.Get()); });
  key.Set(kOldKey);  // no change, no call
  key.Set(kNewKey);
  key.Set(kOldKey);
  EXPECT_THAT(seen, ElementsAre(std::make_pair(1u, std::string(kNewKey)),
                                std::make_pair(2u, std::string(kOldKey))));
}

TEST(ApiKeyTest, UnsubscribeStopsCallsEvenFromInsideTheListener) {
  ApiKey key(kOldKey);
  int a = 0;
  int b = 0;
  ApiKey::ListenerId id_b = 0;
  const ApiKey::ListenerId id_a = key.Subscribe([&](uint64_t) { ++a; });
  id_b = key.Subscribe([&](uint64_t) {
    ++b;
    key.Unsubscribe(id_b);  // must not wait for itself
  });
  key.Set(kNewKey);
  key.Set(kOldKey);
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 1);
  key.Unsubscribe(id_a);
  key.Unsubscribe(id_a);  // twice is harmless
  key.Set(kNewKey);
  EXPECT_EQ(a, 2);
}

TEST(ApiKeyTest, ConcurrentReadersSeeWholeKeys) {
  ApiKey key(kOldKey);
  std::vector<std::thread> readers;
  std::atomic<int> torn{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int j = 0; j < 2000; ++j) {
        const std::string k = key.Get();
        if (k != kOldKey && k != kNewKey) ++torn;
      }
    });
  }
  for (int j = 0; j < 2000; ++j) key.Set(j % 2 == 0 ? kNewKey : kOldKey);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(key.generation(), 2000u);
}

// -------------------------------------------------------------------------------- the file

class ApiKeyFileTest : public ::testing::Test {
 protected:
  ApiKeyFileTest() {
    std::string pattern = ::testing::TempDir() + "/api_key_test.XXXXXX";
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  ~ApiKeyFileTest() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  static void Write(const std::string& path, const std::string& contents) {
    // Through a temporary and rename, as editors and `kubectl cp` do; a new inode each time.
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << contents;
    }
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
  }
  static void Overwrite(const std::string& path, const std::string& contents) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);  // same inode
    out << contents;
  }

  // The layout the kubelet gives a Secret volume: <dir>/key → ..data/key, ..data → ..<ts>/.
  std::string MakeSecretVolume(const std::string& contents) {
    EXPECT_EQ(::mkdir(Path("..2024_01_01_00_00_00.1").c_str(), 0700), 0);
    Write(Path("..2024_01_01_00_00_00.1/api-key"), contents);
    EXPECT_EQ(::symlink("..2024_01_01_00_00_00.1", Path("..data").c_str()), 0);
    EXPECT_EQ(::symlink("..data/api-key", Path("api-key").c_str()), 0);
    return Path("api-key");
  }
  // What the kubelet does on an update: a new timestamped directory, a new ..data_tmp symlink
  // renamed over ..data (atomic), then the old directory removed.
  void SwapSecretVolume(const std::string& contents) {
    ASSERT_EQ(::mkdir(Path("..2024_01_01_00_05_00.2").c_str(), 0700), 0);
    Write(Path("..2024_01_01_00_05_00.2/api-key"), contents);
    ASSERT_EQ(::symlink("..2024_01_01_00_05_00.2", Path("..data_tmp").c_str()), 0);
    ASSERT_EQ(std::rename(Path("..data_tmp").c_str(), Path("..data").c_str()), 0);
    std::system(("rm -rf '" + Path("..2024_01_01_00_00_00.1") + "'").c_str());
  }

  std::unique_ptr<ApiKeyFile> OpenOrDie(const std::string& path) {
    absl::StatusOr<std::unique_ptr<ApiKeyFile>> file = ApiKeyFile::Open(path);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? *std::move(file) : nullptr;
  }

  std::string dir_;
};

TEST_F(ApiKeyFileTest, OpenTrimsTrailingNewline) {
  Write(Path("key"), absl::StrCat("  ", kOldKey, "\r\n\n"));
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->key()->Get(), kOldKey);
  EXPECT_EQ(file->path(), Path("key"));
}

TEST_F(ApiKeyFileTest, OpenFillsAGivenHolder) {
  Write(Path("key"), kNewKey);
  auto holder = std::make_shared<ApiKey>(kOldKey);
  absl::StatusOr<std::unique_ptr<ApiKeyFile>> file = ApiKeyFile::Open(Path("key"), holder);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->key(), holder);
  EXPECT_EQ(holder->Get(), kNewKey);
}

TEST_F(ApiKeyFileTest, OpenFailsWithoutAKey) {
  EXPECT_EQ(ApiKeyFile::Open(Path("missing")).status().code(), absl::StatusCode::kNotFound);
  Write(Path("blank"), " \n\t\n");
  absl::Status blank = ApiKeyFile::Open(Path("blank")).status();
  EXPECT_EQ(blank.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(blank.message(), HasSubstr("is empty"));
  EXPECT_THAT(blank.message(), HasSubstr(Path("blank")));
}

TEST_F(ApiKeyFileTest, ReloadPicksUpARewrite) {
  Write(Path("key"), absl::StrCat(kOldKey, "\n"));
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  const uint64_t generation = file->key()->generation();

  EXPECT_TRUE(file->Reload().ok());  // unchanged: fine, nothing happens
  EXPECT_EQ(file->key()->generation(), generation);

  Overwrite(Path("key"), absl::StrCat(kNewKey, "\n"));
  EXPECT_TRUE(file->Reload().ok());
  EXPECT_EQ(file->key()->Get(), kNewKey);
  EXPECT_EQ(file->key()->generation(), generation + 1);

  Write(Path("key"), kOldKey);
  EXPECT_TRUE(file->Reload().ok());
  EXPECT_EQ(file->key()->Get(), kOldKey);
}

TEST_F(ApiKeyFileTest, ReloadFollowsAKubernetesSymlinkSwap) {
  const std::string path = MakeSecretVolume(absl::StrCat(kOldKey, "\n"));
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(path);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->key()->Get(), kOldKey);

  SwapSecretVolume(absl::StrCat(kNewKey, "\n"));
  EXPECT_TRUE(file->Reload().ok());
  EXPECT_EQ(file->key()->Get(), kNewKey);
}

TEST_F(ApiKeyFileTest, AnEmptyOrMissingFileKeepsTheOldKey) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  int notified = 0;
  file->key()->Subscribe([&](uint64_t) { ++notified; });

  Overwrite(Path("key"), "\n");
  absl::Status empty = file->Reload();
  EXPECT_EQ(empty.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(empty.message(), HasSubstr("is empty"));
  EXPECT_THAT(empty.message(), HasSubstr("keeping the current key"));
  EXPECT_EQ(file->key()->Get(), kOldKey);

  ASSERT_EQ(std::remove(Path("key").c_str()), 0);
  absl::Status missing = file->Reload();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("keeping the current key"));
  EXPECT_EQ(file->key()->Get(), kOldKey);
  EXPECT_EQ(notified, 0);
  EXPECT_EQ(file->key()->generation(), 1u);  // the initial load only
}

TEST_F(ApiKeyFileTest, NoErrorCarriesKeyBytes) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);

  const std::string bad_contents[] = {
      absl::StrCat(kNewKey, " ", kNewKey),       // two keys
      absl::StrCat(kNewKey, "\r\nX-Evil: 1"),     // header injection
      absl::StrCat(kNewKey, "\x01"),              // control character
      absl::StrCat(kNewKey, "\xc3\xa9"),          // not ASCII
      std::string(70 << 10, 'k') + kNewKey,      // too large
  };
  for (const std::string& contents : bad_contents) {
    Overwrite(Path("key"), contents);
    absl::Status status = file->Reload();
    EXPECT_FALSE(status.ok());
    const std::string text = status.ToString();
    EXPECT_THAT(text, Not(HasSubstr(kOldKey)));
    EXPECT_THAT(text, Not(HasSubstr(kNewKey)));
    EXPECT_THAT(text, Not(HasSubstr("sk-")));
    EXPECT_THAT(text, Not(HasSubstr("Evil")));
    EXPECT_EQ(file->key()->Get(), kOldKey);
  }
  // A directory where the file should be.
  ASSERT_EQ(std::remove(Path("key").c_str()), 0);
  ASSERT_EQ(::mkdir(Path("key").c_str(), 0700), 0);
  absl::Status directory = file->Reload();
  EXPECT_EQ(directory.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(directory.ToString(), Not(HasSubstr("sk-")));
}

TEST_F(ApiKeyFileTest, NoErrorCarriesKeyBytesFromTheReader) {
  Write(Path("key"), absl::StrCat(kNewKey, "\n", kNewKey));
  absl::StatusOr<std::string> read = ReadApiKeyFile(Path("key"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().ToString(), Not(HasSubstr(kNewKey)));
}

// ----------------------------------------------------------------------------- the watcher

class ApiKeyWatcherTest : public ApiKeyFileTest {
 protected:
  ApiKeyWatcherTest() : executor_(clock_) {}

  testing::FakeClock clock_;
  testing::ManualExecutor executor_;
};

TEST_F(ApiKeyWatcherTest, NoticesARewriteOnTheNextPoll) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  std::vector<uint64_t> generations;
  file->key()->Subscribe([&](uint64_t g) { generations.push_back(g); });
  file->StartWatching(executor_, clock_, absl::Seconds(2));
  EXPECT_EQ(executor_.pending_timers(), 1u);

  executor_.AdvanceBy(absl::Seconds(2));  // unchanged: nothing
  EXPECT_THAT(generations, IsEmpty());

  Write(Path("key"), absl::StrCat(kNewKey, "\n"));
  executor_.AdvanceBy(absl::Seconds(1));  // not yet due
  EXPECT_EQ(file->key()->Get(), kOldKey);
  executor_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(file->key()->Get(), kNewKey);
  EXPECT_THAT(generations, ElementsAre(2u));
  EXPECT_EQ(executor_.pending_timers(), 1u);  // keeps polling
}

TEST_F(ApiKeyWatcherTest, NoticesASameSizeRewriteThatKeepsTheMtime) {
  Write(Path("key"), kOldKey);
  struct stat before;
  ASSERT_EQ(::stat(Path("key").c_str(), &before), 0);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  file->StartWatching(executor_, clock_, absl::Seconds(2));

  // Same inode, same size, and the old mtime put back: only the content tells.
  ASSERT_EQ(sizeof(kOldKey), sizeof(kNewKey));
  Overwrite(Path("key"), kNewKey);
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, Path("key").c_str(), times, 0), 0);
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(file->key()->Get(), kNewKey);
}

TEST_F(ApiKeyWatcherTest, FollowsAKubernetesSymlinkSwap) {
  const std::string path = MakeSecretVolume(kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(path);
  ASSERT_NE(file, nullptr);
  file->StartWatching(executor_, clock_, absl::Seconds(2));
  SwapSecretVolume(kNewKey);
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(file->key()->Get(), kNewKey);
}

TEST_F(ApiKeyWatcherTest, ReportsEachFailureOnceAndKeepsTheKey) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  std::vector<absl::Status> errors;
  file->StartWatching(executor_, clock_, absl::Seconds(2),
                      [&](const absl::Status& error) { errors.push_back(error); });

  Overwrite(Path("key"), "");
  executor_.AdvanceBy(absl::Seconds(2));
  executor_.AdvanceBy(absl::Seconds(2));  // the same failure: not again
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message(), HasSubstr("is empty"));
  EXPECT_EQ(file->key()->Get(), kOldKey);

  ASSERT_EQ(std::remove(Path("key").c_str()), 0);  // a different failure
  executor_.AdvanceBy(absl::Seconds(2));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1].code(), absl::StatusCode::kNotFound);

  Write(Path("key"), kNewKey);  // recovered
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(file->key()->Get(), kNewKey);
  Overwrite(Path("key"), "");  // the first failure again, after a success: reported again
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(errors.size(), 3u);
  for (const absl::Status& e : errors) EXPECT_THAT(e.ToString(), Not(HasSubstr("sk-")));
}

TEST_F(ApiKeyWatcherTest, StopWatchingCancelsThePoll) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  file->StartWatching(executor_, clock_, absl::Seconds(2));
  file->StopWatching();
  EXPECT_EQ(executor_.pending_timers(), 0u);
  file->StopWatching();  // idempotent

  Write(Path("key"), kNewKey);
  executor_.AdvanceBy(absl::Seconds(10));
  EXPECT_EQ(file->key()->Get(), kOldKey);

  file->StartWatching(executor_, clock_, absl::Seconds(5));  // a restart
  executor_.AdvanceBy(absl::Seconds(5));
  EXPECT_EQ(file->key()->Get(), kNewKey);

  file.reset();  // the destructor stops it too
  EXPECT_EQ(executor_.pending_timers(), 0u);
}

TEST_F(ApiKeyWatcherTest, ATimerThatFiredLateAfterARestartDoesNothing) {
  Write(Path("key"), kOldKey);
  std::unique_ptr<ApiKeyFile> file = OpenOrDie(Path("key"));
  ASSERT_NE(file, nullptr);
  file->StartWatching(executor_, clock_, absl::Seconds(2));
  file->StartWatching(executor_, clock_, absl::Seconds(2));  // replaces the first
  EXPECT_EQ(executor_.pending_timers(), 1u);
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(executor_.pending_timers(), 1u);  // one chain, not two
}

}  // namespace
}  // namespace qwenimage::dashscope
