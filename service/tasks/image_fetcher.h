// ImageFetcher: downloads a finished task's result images, verifies each by decoding it and
// stores it. Each image is retried on its own; one lost for good does not lose the others.
#ifndef QWENIMAGE_SERVICE_TASKS_IMAGE_FETCHER_H_
#define QWENIMAGE_SERVICE_TASKS_IMAGE_FETCHER_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "qwenimage/v1/task.pb.h"
#include "service/common/backoff.h"
#include "service/common/clock.h"
#include "service/common/executor.h"
#include "service/dashscope/types.h"
#include "service/dashscope/upstream.h"
#include "service/store/image_store.h"

namespace qwenimage::tasks {

class ImageFetcher {
 public:
  struct Outcome {
    std::vector<v1::Image> images;       // stored, in index order
    std::vector<v1::ImageError> errors;  // the images lost for good
  };
  using Done = absl::AnyInvocable<void(Outcome)>;

  ImageFetcher(BackoffPolicy backoff, dashscope::Upstream& upstream, store::ImageStore& images,
               Executor& executor, const Clock& clock);

  // Fetches `results` as the images of `task_id`, each under its ResultImage::index (or its
  // position in `results`); `prompt` stands in for a missing orig_prompt. `done` runs once, on the executor, when every image is stored or
  // lost; never after Stop().
  void Fetch(const std::string& task_id, const std::string& prompt,
             std::vector<dashscope::ResultImage> results, Done done);

  // The images of `task_id` already in the store, of the `n` requested, verified by decoding;
  // the missing ones as errors (code "LostAtRestart"). For a sync call whose result arrived but
  // whose end was not stored before the process died: its stored images are not thrown away.
  Outcome RecoverStored(const std::string& task_id, const std::string& prompt, int n);

  // No retry, store or callback from now on (the manager is shutting down). Idempotent.
  void Stop() { stopped_.store(true); }

 private:
  struct Job;
  void Start(const std::shared_ptr<Job>& job, size_t i, int attempt);
  void OnBytes(const std::shared_ptr<Job>& job, size_t i, int attempt,
               absl::StatusOr<std::string> bytes);

  const BackoffPolicy backoff_;
  dashscope::Upstream& upstream_;
  store::ImageStore& images_;
  Executor& executor_;
  const Clock& clock_;
  std::atomic<bool> stopped_{false};
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_IMAGE_FETCHER_H_
