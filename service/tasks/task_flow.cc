// The upstream half of TaskManager: submit (sync or async), poll, download, cancel. Every method
// here runs on the task's strand.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/dashscope/errors.h"
#include "service/store/sha256.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/task_manager.h"
#include "spdlog/spdlog.h"

namespace qwenimage::tasks {
namespace {

using dashscope::TaskStatus;
using dashscope::UpstreamError;

void AddRequestId(v1::Task& task, const std::string& request_id) {
  if (request_id.empty()) return;
  for (const std::string& seen : task.upstream_request_ids()) {
    if (seen == request_id) return;
  }
  task.add_upstream_request_ids(request_id);
}

void AddRequestId(v1::Task& task, const absl::Status& status) {
  if (auto e = dashscope::GetUpstreamError(status); e.has_value()) {
    AddRequestId(task, e->request_id);
  }
}

// The DashScope request id a failed call carried, for log lines ("" if none).
std::string UpstreamRequestId(const absl::Status& status) {
  std::optional<UpstreamError> e = dashscope::GetUpstreamError(status);
  return e.has_value() ? e->request_id : "";
}

// Task-level failure codes that a resubmission may cure (server-side trouble).
bool RetryableTaskCode(const std::string& code) {
  return absl::StartsWith(code, "InternalError") || code == "SystemError" ||
         code == "ModelServiceFailed" || code == "RewriteFailed";
}

}  // namespace

template <typename T>
dashscope::UpstreamCallback<T> TaskManager::OnStrand(
    const ActivePtr& a, void (TaskManager::*method)(const ActivePtr&, absl::StatusOr<T>)) {
  return [this, a, method](absl::StatusOr<T> reply) mutable {
    a->strand->Post([this, a, method, reply = std::move(reply)]() mutable {
      (this->*method)(a, std::move(reply));
    });
  };
}

void TaskManager::OnAdmitted(const ActivePtr& a) {
  a->holds_slot = true;
  if (IsTerminal(a->record.task.state()) || Stopping()) {
    ReleaseSlot(a);
    return;
  }
  if (a->record.task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC) {
    SubmitAsync(a);
  } else {
    SubmitSync(a);
  }
}

void TaskManager::SubmitAsync(const ActivePtr& a) {
  v1::Task& task = a->record.task;
  task.set_queue_position(0);
  // submit_time marks "create in flight": a restart that finds it without an upstream id
  // knows the outcome is unknown and does not send it again.
  ToProto(clock_.Now(), task.mutable_submit_time());
  Commit(a);
  ++a->submit_attempts;
  upstream_.CreateTask(ToParams(task.spec()), OnStrand(a, &TaskManager::OnCreated));
}

void TaskManager::OnCreated(const ActivePtr& a, absl::StatusOr<dashscope::CreatedTask> created) {
  v1::Task& task = a->record.task;
  if (!created.ok()) {
    OnSubmitFailed(a, created.status());
    return;
  }
  task.set_upstream_task_id(created->task_id);
  ClaimUpstreamId(created->task_id);
  AddRequestId(task, created->request_id);
  if (IsTerminal(task.state())) {
    // Cancelled while the create was in flight: cancel upstream too (best effort).
    const std::string upstream_id = created->task_id;
    executor_.RunAt(query_budget_.Reserve(), [this, upstream_id] {
      upstream_.CancelTask(upstream_id, [](absl::StatusOr<std::string>) {});
    });
    tasks_.Update(a->record).IgnoreError();
    ReleaseSlot(a);
    return;
  }
  task.set_state(created->status == TaskStatus::kRunning ? v1::TASK_STATE_RUNNING
                                                         : v1::TASK_STATE_PENDING);
  Commit(a);
  SchedulePoll(a);
}

void TaskManager::SubmitSync(const ActivePtr& a) {
  v1::Task& task = a->record.task;
  absl::Time now = clock_.Now();
  task.set_queue_position(0);
  task.set_state(v1::TASK_STATE_RUNNING);
  ToProto(now, task.mutable_submit_time());
  ToProto(now, task.mutable_start_time());
  Commit(a);
  ++a->submit_attempts;
  upstream_.Generate(ToParams(task.spec()), OnStrand(a, &TaskManager::OnSyncResult));
}

void TaskManager::OnSyncResult(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> result) {
  if (!result.ok()) {
    OnSubmitFailed(a, result.status());
    return;
  }
  ReleaseSlot(a);
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state())) return;  // cancelled: the result is discarded
  AddRequestId(task, result->request_id);
  RecordDuration(a->model, clock_.Now() - FromProto(task.start_time()));
  StartDownloads(a, *std::move(result));
}

void TaskManager::OnSubmitFailed(const ActivePtr& a, const absl::Status& status) {
  v1::Task& task = a->record.task;
  if (std::optional<UpstreamError> e = dashscope::GetUpstreamError(status);
      e.has_value() && e->kind == UpstreamError::Kind::kOutcomeUnknown && !Stopping() &&
      !IsTerminal(task.state()) && task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC) {
    // It may exist upstream (holding one of the account's slots): look it up, keeping the slot.
    AddRequestId(task, status);
    ResolveUnknownCreate(a, status, /*lookup=*/1);
    return;
  }
  if (std::optional<UpstreamError> e = dashscope::GetUpstreamError(status);
      e.has_value() && e->code == "Throttling.Concurrency" && scheduler_.StopQueueAhead(a->model)) {
    // Before the slot is freed, so that freeing it admits nothing past the running limit.
    spdlog::warn(
        "upstream refuses {} tasks over the running limit instead of queueing them; "
        "no longer submitting ahead of free slots for that model",
        a->model);
  }
  ReleaseSlot(a);
  if (Stopping()) return;  // leave the record as it is; the next start decides
  AddRequestId(task, status);
  if (IsTerminal(task.state())) {
    tasks_.Update(a->record).IgnoreError();
    return;
  }
  std::optional<UpstreamError> error = dashscope::GetUpstreamError(status);
  UpstreamError::Kind kind = error.has_value() ? error->kind : UpstreamError::Kind::kRetryable;
  std::optional<absl::Duration> retry_after = error.has_value() ? error->retry_after : std::nullopt;
  const BackoffPolicy& policy = options_.submit_backoff;

  if (kind == UpstreamError::Kind::kThrottled ||
      (kind == UpstreamError::Kind::kRetryable && a->submit_attempts < policy.max_attempts)) {
    // Nothing was created upstream: the task goes back to the head of its line.
    absl::Duration delay = BackoffDelay(policy, a->submit_attempts, retry_after);
    if (kind == UpstreamError::Kind::kThrottled) scheduler_.Throttle(a->model, delay);
    observer().OnSubmitRetry(a->model, error.has_value() ? error->code : "Unknown");
    spdlog::warn(
        "task {}: tenant={} upstream_request_id={} upstream refused the submission ({}); "
        "retrying in {}",
        a->id, a->tenant, UpstreamRequestId(status), std::string(status.message()),
        absl::FormatDuration(delay));
    task.set_state(v1::TASK_STATE_QUEUED);
    task.clear_submit_time();
    task.clear_start_time();
    Commit(a);
    RequeueAfter(a, kind == UpstreamError::Kind::kThrottled ? absl::ZeroDuration() : delay);
    return;
  }
  if (kind == UpstreamError::Kind::kOutcomeUnknown) {
    FailUnknownOutcome(a, status);
    return;
  }
  Finish(a, v1::TASK_STATE_FAILED, ToTaskError(status));
}

void TaskManager::RequeueAfter(const ActivePtr& a, absl::Duration delay) {
  auto requeue = [this, a] {
    a->strand->Post([this, a] {
      if (IsTerminal(a->record.task.state()) || Stopping()) return;
      absl::StatusOr<int> position = scheduler_.Enqueue(a->model, a->tenant, a->id, /*front=*/true);
      if (!position.ok()) {
        Finish(a, v1::TASK_STATE_FAILED,
               GatewayError("QueueFull", position.status().message(), /*retryable=*/true));
      }
    });
  };
  if (delay <= absl::ZeroDuration()) {
    requeue();
  } else {
    executor_.RunAt(clock_.Now() + delay, std::move(requeue));
  }
}

void TaskManager::SchedulePoll(const ActivePtr& a) {
  const v1::Task& task = a->record.task;
  if (IsTerminal(task.state()) || Stopping()) return;
  std::optional<absl::Time> started;
  if (task.state() == v1::TASK_STATE_RUNNING && task.has_start_time()) {
    started = FromProto(task.start_time());
  }
  planner_.Track(a->id, task.upstream_task_id(), a->model,
                 task.has_submit_time() ? FromProto(task.submit_time()) : clock_.Now(), started);
  WakePoller();
}

void TaskManager::DoPoll(const ActivePtr& a) {
  if (IsTerminal(a->record.task.state()) || Stopping()) return;
  upstream_.GetTask(a->record.task.upstream_task_id(), OnStrand(a, &TaskManager::OnPolled));
}

void TaskManager::OnPolled(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> polled) {
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state()) || Stopping()) return;
  if (!polled.ok()) {
    std::optional<UpstreamError> error = dashscope::GetUpstreamError(polled.status());
    if (error.has_value() && error->kind == UpstreamError::Kind::kTerminal) {
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_FAILED, ToTaskError(polled.status()));
      return;
    }
    ++a->poll_failures;
    if (error.has_value() && error->kind == UpstreamError::Kind::kThrottled) {
      query_budget_.PauseUntil(clock_.Now() + BackoffDelay(options_.submit_backoff,
                                                           a->poll_failures, error->retry_after));
    }
    spdlog::warn("task {}: tenant={} upstream_request_id={} polling failed: {}", a->id, a->tenant,
                 UpstreamRequestId(polled.status()), std::string(polled.status().message()));
    SchedulePoll(a);
    return;
  }
  a->poll_failures = 0;
  if (polled->status != TaskStatus::kPending && polled->status != TaskStatus::kRunning) {
    AddRequestId(task, polled->request_id);  // the reply that carried the outcome
  }
  switch (polled->status) {
    case TaskStatus::kPending:
      if (task.state() != v1::TASK_STATE_PENDING) {
        task.set_state(v1::TASK_STATE_PENDING);
        Commit(a);
      }
      SchedulePoll(a);
      return;
    case TaskStatus::kRunning:
      if (task.state() != v1::TASK_STATE_RUNNING) {
        AddRequestId(task, polled->request_id);
        task.set_state(v1::TASK_STATE_RUNNING);
        ToProto(polled->scheduled_time.value_or(clock_.Now()), task.mutable_start_time());
        Commit(a);
      }
      SchedulePoll(a);
      return;
    case TaskStatus::kSucceeded: {
      ReleaseSlot(a);
      absl::Time end = polled->end_time.value_or(clock_.Now());
      // The run time, without the wait upstream: polls are planned from the task's start.
      if (std::optional<absl::Time> began = polled->scheduled_time.has_value()
                                                ? polled->scheduled_time
                                                : polled->submit_time) {
        RecordDuration(a->model, end - *began);
      }
      if (!task.has_start_time()) {
        ToProto(polled->scheduled_time.value_or(clock_.Now()), task.mutable_start_time());
      }
      task.set_state(v1::TASK_STATE_RUNNING);
      StartDownloads(a, *std::move(polled));
      return;
    }
    case TaskStatus::kFailed: {
      ReleaseSlot(a);
      v1::TaskError error;
      error.set_code(polled->code.empty() ? "Unknown" : polled->code);
      error.set_message(polled->message);
      error.set_upstream_request_id(polled->request_id);
      error.set_retryable(RetryableTaskCode(polled->code));
      Finish(a, v1::TASK_STATE_FAILED, std::move(error));
      return;
    }
    case TaskStatus::kCanceled:
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_CANCELLED,
             GatewayError("CanceledUpstream", "the task was cancelled upstream", false));
      return;
    case TaskStatus::kUnknown:
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_FAILED,
             GatewayError("UpstreamTaskUnknown",
                          "DashScope no longer knows the task (ids expire after 24 h)", false));
      return;
  }
}

void TaskManager::StartDownloads(const ActivePtr& a, dashscope::UpstreamTask result) {
  v1::Task& task = a->record.task;
  task.clear_image_errors();
  for (const dashscope::ResultFailure& f : result.failures) {
    v1::ImageError* e = task.add_image_errors();
    e->set_index(f.index);
    e->set_code(f.code);
    e->set_message(f.message);
  }
  v1::Usage* usage = task.mutable_usage();
  usage->set_image_count(result.image_count > 0 ? result.image_count
                                                : static_cast<int>(result.images.size()));
  usage->set_width(result.width);
  usage->set_height(result.height);
  if (result.images.empty()) {
    const dashscope::ResultFailure* first =
        result.failures.empty() ? nullptr : &result.failures.front();
    Finish(a, v1::TASK_STATE_FAILED,
           GatewayError(first != nullptr ? first->code : "NoImages",
                        first != nullptr ? first->message : "upstream returned no image",
                        /*retryable=*/true));
    return;
  }
  a->result = std::move(result);
  a->downloaded.assign(a->result.images.size(), std::nullopt);
  a->downloads_left = a->result.images.size();
  a->downloads_started = clock_.Now();
  for (size_t i = 0; i < a->result.images.size(); ++i) DownloadOne(a, i, 1);
}

void TaskManager::DownloadOne(const ActivePtr& a, size_t i, int attempt) {
  upstream_.Download(a->result.images[i].url,
                     [this, a, i, attempt](absl::StatusOr<std::string> bytes) mutable {
                       a->strand->Post([this, a, i, attempt, bytes = std::move(bytes)]() mutable {
                         OnDownloaded(a, i, attempt, std::move(bytes));
                       });
                     });
}

void TaskManager::OnDownloaded(const ActivePtr& a, size_t i, int attempt,
                               absl::StatusOr<std::string> bytes) {
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state()) || Stopping()) return;
  int width = 0;
  int height = 0;
  absl::Status status = bytes.status();
  if (status.ok()) status = PngDimensions(*bytes, &width, &height);
  if (status.ok()) status = images_.Put(a->id, static_cast<int>(i), *bytes);
  if (!status.ok()) {
    if (attempt < options_.download_backoff.max_attempts) {
      absl::Duration delay = BackoffDelay(options_.download_backoff, attempt);
      executor_.RunAt(clock_.Now() + delay, [this, a, i, attempt] {
        a->strand->Post([this, a, i, attempt] { DownloadOne(a, i, attempt + 1); });
      });
      return;
    }
    Finish(a, v1::TASK_STATE_FAILED,
           GatewayError("DownloadFailed",
                        absl::StrCat("image ", i, " could not be stored: ", status.message()),
                        /*retryable=*/true));
    return;
  }
  const dashscope::ResultImage& source = a->result.images[i];
  v1::Image image;
  image.set_index(static_cast<int>(i));
  image.set_uri(absl::StrCat("qwenimage://tasks/", a->id, "/images/", i));
  image.set_content_type("image/png");
  image.set_width(width);
  image.set_height(height);
  image.set_size_bytes(static_cast<int64_t>(bytes->size()));
  image.set_sha256(store::Sha256Hex(*bytes));
  image.set_orig_prompt(source.orig_prompt.empty() ? task.spec().prompt() : source.orig_prompt);
  image.set_actual_prompt(source.actual_prompt);
  a->downloaded[i] = std::move(image);
  if (--a->downloads_left > 0) return;
  task.clear_images();
  for (std::optional<v1::Image>& img : a->downloaded) *task.add_images() = *std::move(img);
  a->downloaded.clear();
  observer().OnImagesStored(a->model, clock_.Now() - a->downloads_started);
  Finish(a, v1::TASK_STATE_SUCCEEDED, std::nullopt);
}

void TaskManager::CancelOnStrand(const ActivePtr& a, TaskCallback done) {
  v1::Task& task = a->record.task;
  v1::TaskError reason = GatewayError("Cancelled", "cancelled by the caller", false);
  if (IsTerminal(task.state())) {
    done(task);
    return;
  }
  const bool pending_upstream =
      task.state() == v1::TASK_STATE_PENDING && !task.upstream_task_id().empty();
  if (!pending_upstream) {
    // QUEUED (in line, or admitted with the create still in flight: OnCreated cancels it
    // upstream), or RUNNING (upstream cannot cancel it; its result will be discarded).
    scheduler_.Remove(a->id);
    if (task.state() == v1::TASK_STATE_RUNNING && task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC) {
      ReleaseSlot(a);
    }
    Finish(a, v1::TASK_STATE_CANCELLED, std::move(reason));
    done(task);
    return;
  }
  const std::string upstream_id = task.upstream_task_id();
  auto on_reply = [this, a, done = std::move(done),
                   reason = std::move(reason)](absl::StatusOr<std::string> reply) mutable {
    a->strand->Post([this, a, done = std::move(done), reason = std::move(reason),
                     reply = std::move(reply)]() mutable {
      if (reply.ok()) {
        AddRequestId(a->record.task, *reply);
      } else {
        AddRequestId(a->record.task, reply.status());
        // Typically UnsupportedOperation: it started running meanwhile. Either way the caller
        // asked to stop, so the gateway drops it and discards any result.
        spdlog::info("task {}: tenant={} upstream cancel refused ({}); cancelled locally", a->id,
                     a->tenant, std::string(reply.status().message()));
      }
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_CANCELLED, std::move(reason));
      done(a->record.task);
    });
  };
  executor_.RunAt(query_budget_.Reserve(),
                  [this, upstream_id, on_reply = std::move(on_reply)]() mutable {
                    upstream_.CancelTask(upstream_id, std::move(on_reply));
                  });
}

}  // namespace qwenimage::tasks
