#include "service/tasks/image_fetcher.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/backoff.h"
#include "service/dashscope/errors.h"
#include "service/simulator/images.h"
#include "service/store/dir_image_store.h"
#include "service/store/sha256.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTaskId[] = "task-1";
constexpr char kPrompt[] = "a cat";

class ImageFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/image_fetcher_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    absl::StatusOr<std::unique_ptr<store::DirImageStore>> opened =
        store::DirImageStore::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    images_ = *std::move(opened);
    // The delay before retry k is at most kBackoffMax: advancing by it always fires the retry.
    backoff_.initial = kBackoffMax;
    backoff_.max = kBackoffMax;
    backoff_.max_attempts = 3;
    fetcher_ = std::make_unique<ImageFetcher>(backoff_, upstream_, *images_, executor_, clock_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  static dashscope::ResultImage Result(const std::string& url, const std::string& orig = kPrompt,
                                       const std::string& actual = "") {
    return dashscope::ResultImage{url, orig, actual};
  }

  void Fetch(std::vector<dashscope::ResultImage> results) {
    fetcher_->Fetch(kTaskId, kPrompt, std::move(results), [this](ImageFetcher::Outcome outcome) {
      ++done_calls_;
      outcome_ = std::move(outcome);
    });
    executor_.RunUntilIdle();
  }

  // Answers the oldest pending download, which must be of `url`.
  void Answer(const std::string& url, absl::StatusOr<std::string> reply) {
    ASSERT_FALSE(upstream_.downloads.empty()) << "no download pending for " << url;
    auto call = testing::FakeUpstream::Pop(upstream_.downloads);
    ASSERT_EQ(call.arg, url);
    download_log_.push_back(call.arg);
    call.done(std::move(reply));
    executor_.RunUntilIdle();
  }

  // Answers the pending download of `url`, whichever its place in the queue.
  void AnswerUrl(const std::string& url, absl::StatusOr<std::string> reply) {
    for (auto it = upstream_.downloads.begin(); it != upstream_.downloads.end(); ++it) {
      if (it->arg != url) continue;
      auto call = std::move(*it);
      upstream_.downloads.erase(it);
      download_log_.push_back(call.arg);
      call.done(std::move(reply));
      executor_.RunUntilIdle();
      return;
    }
    FAIL() << "no download pending for " << url;
  }

  // Lets every retry that is due by then start.
  void WaitOutBackoff() { executor_.AdvanceBy(kBackoffMax); }

  static std::string Png(int width, int height, uint64_t key) {
    return simulator::RenderPng(width, height, key);
  }

  static absl::Status Refusal(dashscope::UpstreamError::Kind kind, int http_status,
                              const std::string& code) {
    dashscope::UpstreamError e;
    e.kind = kind;
    e.http_status = http_status;
    e.code = code;
    e.message = code + " from the image host";
    e.status_code = kind == dashscope::UpstreamError::Kind::kTerminal
                        ? absl::StatusCode::kFailedPrecondition
                        : absl::StatusCode::kUnavailable;
    return dashscope::UpstreamErrorStatus(e);
  }

  static constexpr absl::Duration kBackoffMax = absl::Seconds(1);

  std::string dir_;
  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
  testing::FakeUpstream upstream_;
  std::unique_ptr<store::DirImageStore> images_;
  BackoffPolicy backoff_;
  std::unique_ptr<ImageFetcher> fetcher_;

  int done_calls_ = 0;
  std::optional<ImageFetcher::Outcome> outcome_;
  std::vector<std::string> download_log_;  // every download answered, in order
};

TEST_F(ImageFetcherTest, StoresEveryImageWithItsMetadata) {
  const std::string png0 = Png(64, 48, 1);
  const std::string png1 = Png(32, 80, 2);
  Fetch({Result("https://oss/0.png", "a cat, upstream", "a fluffy cat"),
         Result("https://oss/1.png", "", "")});
  // Both downloads start at once, each on its own.
  ASSERT_EQ(upstream_.downloads.size(), 2u);
  // Answered out of order: the outcome is still in index order.
  AnswerUrl("https://oss/1.png", png1);
  EXPECT_EQ(done_calls_, 0);
  AnswerUrl("https://oss/0.png", png0);

  ASSERT_EQ(done_calls_, 1);
  EXPECT_THAT(outcome_->errors, IsEmpty());
  ASSERT_EQ(outcome_->images.size(), 2u);
  const v1::Image& a = outcome_->images[0];
  EXPECT_EQ(a.index(), 0);
  EXPECT_EQ(a.uri(), "qwenimage://tasks/task-1/images/0");
  EXPECT_EQ(a.content_type(), "image/png");
  EXPECT_EQ(a.width(), 64);
  EXPECT_EQ(a.height(), 48);
  EXPECT_EQ(a.size_bytes(), static_cast<int64_t>(png0.size()));
  EXPECT_EQ(a.sha256(), store::Sha256Hex(png0));
  EXPECT_EQ(a.sha256().size(), 64u);
  EXPECT_EQ(a.orig_prompt(), "a cat, upstream");
  EXPECT_EQ(a.actual_prompt(), "a fluffy cat");
  const v1::Image& b = outcome_->images[1];
  EXPECT_EQ(b.index(), 1);
  EXPECT_EQ(b.uri(), "qwenimage://tasks/task-1/images/1");
  EXPECT_EQ(b.width(), 32);
  EXPECT_EQ(b.height(), 80);
  EXPECT_EQ(b.size_bytes(), static_cast<int64_t>(png1.size()));
  EXPECT_EQ(b.sha256(), store::Sha256Hex(png1));
  EXPECT_NE(a.sha256(), b.sha256());
  // Upstream reported no orig_prompt: the request's prompt stands in.
  EXPECT_EQ(b.orig_prompt(), kPrompt);
  EXPECT_EQ(b.actual_prompt(), "");

  EXPECT_EQ(*images_->Get(kTaskId, 0), png0);
  EXPECT_EQ(*images_->Get(kTaskId, 1), png1);
  EXPECT_THAT(download_log_, ElementsAre("https://oss/1.png", "https://oss/0.png"));
  // Nothing more is sent or scheduled.
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_EQ(done_calls_, 1);
}

TEST_F(ImageFetcherTest, TruncatedPngIsRetriedAndTheLaterGoodOneStored) {
  const std::string png = Png(40, 30, 3);
  Fetch({Result("https://oss/0.png")});
  Answer("https://oss/0.png", png.substr(0, png.size() / 2));
  // The bad bytes are neither stored nor reported: a retry is on its way.
  EXPECT_EQ(done_calls_, 0);
  EXPECT_EQ(images_->Get(kTaskId, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(upstream_.downloads.empty());  // not before its back-off
  WaitOutBackoff();
  Answer("https://oss/0.png", png);

  ASSERT_EQ(done_calls_, 1);
  EXPECT_THAT(outcome_->errors, IsEmpty());
  ASSERT_EQ(outcome_->images.size(), 1u);
  EXPECT_EQ(outcome_->images[0].width(), 40);
  EXPECT_EQ(outcome_->images[0].height(), 30);
  EXPECT_EQ(outcome_->images[0].sha256(), store::Sha256Hex(png));
  EXPECT_EQ(*images_->Get(kTaskId, 0), png);
  EXPECT_THAT(download_log_, ElementsAre("https://oss/0.png", "https://oss/0.png"));
}

TEST_F(ImageFetcherTest, PngWithTrailingBytesIsRetried) {
  const std::string png = Png(16, 16, 4);
  Fetch({Result("https://oss/0.png")});
  Answer("https://oss/0.png", png + "smuggled");
  EXPECT_EQ(done_calls_, 0);
  WaitOutBackoff();
  Answer("https://oss/0.png", png);
  ASSERT_EQ(done_calls_, 1);
  ASSERT_EQ(outcome_->images.size(), 1u);
  EXPECT_EQ(*images_->Get(kTaskId, 0), png);
}

TEST_F(ImageFetcherTest, ImageThatFailsEveryAttemptIsReportedAndTheOthersStored) {
  const std::string png0 = Png(20, 20, 5);
  const std::string png2 = Png(24, 24, 6);
  Fetch({Result("https://oss/0.png"), Result("https://oss/1.png"), Result("https://oss/2.png")});
  ASSERT_EQ(upstream_.downloads.size(), 3u);
  AnswerUrl("https://oss/0.png", png0);
  AnswerUrl("https://oss/2.png", png2);
  // Image 1 fails each of its max_attempts (3) attempts, each a retry of its own.
  AnswerUrl("https://oss/1.png",
            Refusal(dashscope::UpstreamError::Kind::kRetryable, 503, "ServiceUnavailable"));
  EXPECT_EQ(done_calls_, 0);
  WaitOutBackoff();
  AnswerUrl("https://oss/1.png", absl::UnavailableError("connection reset"));
  EXPECT_EQ(done_calls_, 0);
  WaitOutBackoff();
  AnswerUrl("https://oss/1.png", std::string("not a png"));

  ASSERT_EQ(done_calls_, 1);
  ASSERT_EQ(outcome_->images.size(), 2u);
  EXPECT_EQ(outcome_->images[0].index(), 0);
  EXPECT_EQ(outcome_->images[1].index(), 2);
  EXPECT_EQ(outcome_->images[1].uri(), "qwenimage://tasks/task-1/images/2");
  ASSERT_EQ(outcome_->errors.size(), 1u);
  EXPECT_EQ(outcome_->errors[0].index(), 1);
  EXPECT_EQ(outcome_->errors[0].code(), "DownloadFailed");
  EXPECT_THAT(outcome_->errors[0].message(), HasSubstr("3 attempts"));
  EXPECT_EQ(*images_->Get(kTaskId, 0), png0);
  EXPECT_EQ(images_->Get(kTaskId, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*images_->Get(kTaskId, 2), png2);
  // No fourth attempt.
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_THAT(download_log_,
              ElementsAre("https://oss/0.png", "https://oss/2.png", "https://oss/1.png",
                          "https://oss/1.png", "https://oss/1.png"));
  EXPECT_EQ(done_calls_, 1);
}

TEST_F(ImageFetcherTest, TerminalDownloadErrorIsNotRetried) {
  const std::string png1 = Png(12, 12, 7);
  Fetch({Result("https://oss/0.png"), Result("https://oss/1.png")});
  AnswerUrl("https://oss/0.png",
            Refusal(dashscope::UpstreamError::Kind::kTerminal, 403, "AccessDenied"));
  // Image 0 is lost at once; image 1 is still awaited.
  EXPECT_EQ(done_calls_, 0);
  executor_.AdvanceBy(absl::Minutes(10));
  ASSERT_EQ(upstream_.downloads.size(), 1u);
  EXPECT_EQ(upstream_.downloads.front().arg, "https://oss/1.png");
  AnswerUrl("https://oss/1.png", png1);

  ASSERT_EQ(done_calls_, 1);
  ASSERT_EQ(outcome_->images.size(), 1u);
  EXPECT_EQ(outcome_->images[0].index(), 1);
  ASSERT_EQ(outcome_->errors.size(), 1u);
  EXPECT_EQ(outcome_->errors[0].index(), 0);
  EXPECT_EQ(outcome_->errors[0].code(), "DownloadFailed");
  EXPECT_THAT(outcome_->errors[0].message(), HasSubstr("1 attempts"));
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_THAT(download_log_, ElementsAre("https://oss/0.png", "https://oss/1.png"));
}

TEST_F(ImageFetcherTest, ZeroResultsIsDoneWithAnEmptyOutcome) {
  Fetch({});
  ASSERT_EQ(done_calls_, 1);
  EXPECT_THAT(outcome_->images, IsEmpty());
  EXPECT_THAT(outcome_->errors, IsEmpty());
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_THAT(*images_->ListTaskIds(), IsEmpty());
}

TEST_F(ImageFetcherTest, ZeroResultsRunsDoneOnTheExecutor) {
  fetcher_->Fetch(kTaskId, kPrompt, {}, [this](ImageFetcher::Outcome) { ++done_calls_; });
  EXPECT_EQ(done_calls_, 0);  // not inline
  executor_.RunUntilIdle();
  EXPECT_EQ(done_calls_, 1);
}

TEST_F(ImageFetcherTest, StopBeforeTheReplyStoresNothingAndReportsNothing) {
  Fetch({Result("https://oss/0.png")});
  ASSERT_EQ(upstream_.downloads.size(), 1u);
  fetcher_->Stop();
  fetcher_->Stop();  // idempotent
  Answer("https://oss/0.png", Png(8, 8, 8));
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_EQ(done_calls_, 0);
  EXPECT_EQ(images_->Get(kTaskId, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(*images_->ListTaskIds(), IsEmpty());
  EXPECT_TRUE(upstream_.downloads.empty());
}

TEST_F(ImageFetcherTest, StopDuringBackOffSendsNoRetry) {
  Fetch({Result("https://oss/0.png")});
  Answer("https://oss/0.png", absl::UnavailableError("connection reset"));
  fetcher_->Stop();
  executor_.AdvanceBy(absl::Minutes(10));
  EXPECT_TRUE(upstream_.downloads.empty());
  EXPECT_EQ(done_calls_, 0);
  EXPECT_THAT(download_log_, ElementsAre("https://oss/0.png"));
}

}  // namespace
}  // namespace qwenimage::tasks
