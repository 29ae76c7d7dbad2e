#include "service/tasks/image_fetcher.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/common/png.h"
#include "service/dashscope/errors.h"
#include "service/store/sha256.h"
#include "service/tasks/image_uri.h"

namespace qwenimage::tasks {
namespace {

// Far above any model's output (2.0: 2048*2048 total pixels); the byte cap bounds it too.
constexpr int64_t kMaxPixels = int64_t{8192} * 8192;

}  // namespace

struct ImageFetcher::Job {
  std::string task_id;
  std::string prompt;
  std::vector<dashscope::ResultImage> results;
  Done done;

  absl::Mutex mu;
  std::vector<std::optional<v1::Image>> stored ABSL_GUARDED_BY(mu);
  std::vector<std::optional<v1::ImageError>> lost ABSL_GUARDED_BY(mu);
  size_t left ABSL_GUARDED_BY(mu) = 0;
};

ImageFetcher::ImageFetcher(BackoffPolicy backoff, dashscope::Upstream& upstream,
                           store::ImageStore& images, Executor& executor, const Clock& clock)
    : backoff_(backoff), upstream_(upstream), images_(images), executor_(executor), clock_(clock) {}

void ImageFetcher::Fetch(const std::string& task_id, const std::string& prompt,
                         std::vector<dashscope::ResultImage> results, Done done) {
  auto job = std::make_shared<Job>();
  job->task_id = task_id;
  job->prompt = prompt;
  job->results = std::move(results);
  job->done = std::move(done);
  const size_t n = job->results.size();
  {
    absl::MutexLock lock(&job->mu);
    job->stored.resize(n);
    job->lost.resize(n);
    job->left = n;
  }
  if (n == 0) {
    executor_.Run([job] { job->done(Outcome{}); });
    return;
  }
  for (size_t i = 0; i < n; ++i) Start(job, i, 1);
}

ImageFetcher::Outcome ImageFetcher::RecoverStored(const std::string& task_id,
                                                  const std::string& prompt, int n) {
  Outcome outcome;
  for (int index = 0; index < n; ++index) {
    absl::StatusOr<std::string> bytes = images_.Get(task_id, index);
    absl::StatusOr<PngInfo> png =
        bytes.ok() ? DecodePng(*bytes, kMaxPixels) : absl::StatusOr<PngInfo>(bytes.status());
    if (!png.ok()) {
      v1::ImageError& e = outcome.errors.emplace_back();
      e.set_index(index);
      e.set_code("LostAtRestart");
      e.set_message("the gateway stopped before this image was stored");
      continue;
    }
    v1::Image& img = outcome.images.emplace_back();
    img.set_index(index);
    img.set_uri(ImageUri(task_id, index));
    img.set_content_type("image/png");
    img.set_width(png->width);
    img.set_height(png->height);
    img.set_size_bytes(static_cast<int64_t>(bytes->size()));
    img.set_sha256(store::Sha256Hex(*bytes));
    img.set_orig_prompt(prompt);
  }
  return outcome;
}

void ImageFetcher::Start(const std::shared_ptr<Job>& job, size_t i, int attempt) {
  if (stopped_.load()) return;
  upstream_.Download(job->results[i].url,
                     [this, job, i, attempt](absl::StatusOr<std::string> bytes) mutable {
                       // Off the I/O thread: decoding and the disk write block.
                       executor_.Run([this, job, i, attempt, bytes = std::move(bytes)]() mutable {
                         OnBytes(job, i, attempt, std::move(bytes));
                       });
                     });
}

void ImageFetcher::OnBytes(const std::shared_ptr<Job>& job, size_t i, int attempt,
                           absl::StatusOr<std::string> bytes) {
  if (stopped_.load()) return;
  absl::Status status = bytes.status();
  PngInfo png;
  bool worth_retrying = true;
  if (std::optional<dashscope::UpstreamError> e = dashscope::GetUpstreamError(status)) {
    worth_retrying = e->kind != dashscope::UpstreamError::Kind::kTerminal;
  }
  if (status.ok()) {
    // A truncated or corrupt download is retried like a failed one.
    absl::StatusOr<PngInfo> decoded = DecodePng(*bytes, kMaxPixels);
    if (decoded.ok()) png = *decoded;
    status = decoded.status();
  }
  // Stored and named by its position among the requested images.
  const int index = job->results[i].index >= 0 ? job->results[i].index : static_cast<int>(i);
  if (status.ok()) status = images_.Put(job->task_id, index, *bytes);
  if (!status.ok() && worth_retrying && attempt < backoff_.max_attempts) {
    executor_.RunAt(clock_.Now() + BackoffDelay(backoff_, attempt),
                    [this, job, i, attempt] { Start(job, i, attempt + 1); });
    return;
  }
  std::optional<v1::Image> image;
  std::optional<v1::ImageError> error;
  if (status.ok()) {
    const dashscope::ResultImage& source = job->results[i];
    v1::Image& img = image.emplace();
    img.set_index(index);
    img.set_uri(ImageUri(job->task_id, index));
    img.set_content_type("image/png");
    img.set_width(png.width);
    img.set_height(png.height);
    img.set_size_bytes(static_cast<int64_t>(bytes->size()));
    img.set_sha256(store::Sha256Hex(*bytes));
    img.set_orig_prompt(source.orig_prompt.empty() ? job->prompt : source.orig_prompt);
    img.set_actual_prompt(source.actual_prompt);
  } else {
    v1::ImageError& e = error.emplace();
    e.set_index(index);
    e.set_code("DownloadFailed");
    e.set_message(absl::StrCat("image ", index, " could not be downloaded and stored after ", attempt,
                               " attempts: ", status.message()));
  }
  Outcome outcome;
  {
    absl::MutexLock lock(&job->mu);
    job->stored[i] = std::move(image);
    job->lost[i] = std::move(error);
    if (--job->left > 0) return;
    for (auto& img : job->stored) {
      if (img.has_value()) outcome.images.push_back(*std::move(img));
    }
    for (auto& e : job->lost) {
      if (e.has_value()) outcome.errors.push_back(*std::move(e));
    }
  }
  job->done(std::move(outcome));
}

}  // namespace qwenimage::tasks
