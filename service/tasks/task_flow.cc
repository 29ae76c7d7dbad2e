// The upstream half of TaskManager: submit (sync or async), poll, download, cancel. Every method
// here runs on the task's strand.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/dashscope/errors.h"
#include "service/tasks/active_task.h"
#include "service/tasks/convert.h"
#include "service/tasks/input_images.h"
#include "service/tasks/task_errors.h"
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

// What a failed call allows. A status without a verdict never came from the DashScope client;
// it is treated as the worst case for a billed call.
UpstreamError::Kind KindOf(const absl::Status& status) {
  std::optional<UpstreamError> e = dashscope::GetUpstreamError(status);
  return e.has_value() ? e->kind : UpstreamError::Kind::kOutcomeUnknown;
}

// Puts a submission that did no work upstream back to "never sent": the marker must go, or a
// restart would take it for a create whose reply was lost.
void BackToQueued(v1::Task& task) {
  task.set_state(v1::TASK_STATE_QUEUED);
  task.clear_submit_time();
  task.clear_start_time();
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

std::optional<absl::Duration> TaskManager::CappedRetryAfter(const absl::Status& status) const {
  std::optional<UpstreamError> e = dashscope::GetUpstreamError(status);
  if (!e.has_value() || !e->retry_after.has_value()) return std::nullopt;
  return std::min(*e->retry_after, options_.max_retry_after);
}

void TaskManager::OnAdmitted(const ActivePtr& a) {
  a->holds_slot = true;
  if (IsTerminal(a->record.task.state()) || Draining()) {
    ReleaseSlot(a);  // cancelled in line, or draining: it stays QUEUED for the next start
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
  // knows the outcome is unknown and looks the task up instead of sending it again. It must be
  // on disk before the create leaves.
  ToProto(clock_.Now(), task.mutable_submit_time());
  SendOnceStored(a, [this, a] {
    upstream_.CreateTask(ToParams(a->record.task.spec()), OnStrand(a, &TaskManager::OnCreated));
  });
}

void TaskManager::SendOnceStored(const ActivePtr& a, absl::AnyInvocable<void()> send) {
  Commit(a, store::Durability::kSynced, [this, a, send = std::move(send)]() mutable {
    v1::Task& task = a->record.task;
    // Counted before it is sent, atomically with the drain's start, so that a drain that begins
    // now either waits for this call or keeps it from leaving.
    if (IsTerminal(task.state()) || !TryStartBillable(a)) {
      // Cancelled or draining while the marker was being written: nothing was sent.
      if (!IsTerminal(task.state())) {
        BackToQueued(task);
        Commit(a, store::Durability::kSynced);
      }
      ReleaseSlot(a);
      return;
    }
    std::function<bool()> lease_held;
    {
      absl::MutexLock lock(&mu_);
      lease_held = lease_held_;
    }
    if (lease_held && !lease_held()) {
      // Paused past the lease after the marker was stored: the next holder resolves the marker
      // (nothing was sent, so nothing is found and nothing billed).
      SetBillable(a, false);
      OnFenced(a, store::FencedError("the lease ran out before the billed call left"));
      return;
    }
    ++a->submit_attempts;
    a->call_in_flight = true;
    send();
  });
}

void TaskManager::OnCreated(const ActivePtr& a, absl::StatusOr<dashscope::CreatedTask> created) {
  v1::Task& task = a->record.task;
  a->call_in_flight = false;
  if (!created.ok()) {
    OnSubmitFailed(a, created.status());
    return;
  }
  if (Stopping()) return;  // the next start resolves it from the stored marker
  a->refused_since.reset();
  task.set_upstream_task_id(created->task_id);
  AddRequestId(task, created->request_id);
  if (IsTerminal(task.state())) {
    // Cancelled while the create was in flight: cancel upstream too (best effort), and keep the
    // claim so that no lookup ever takes this task for another.
    const std::string upstream_id = created->task_id;
    executor_.RunAt(query_budget_.Reserve(), [this, upstream_id] {
      if (Stopping()) return;  // the upstream client may be gone
      upstream_.CancelTask(upstream_id, [](absl::StatusOr<std::string>) {});
    });
    ReleaseSlot(a);
    Commit(a, store::Durability::kSynced, [this, a] { SetBillable(a, false); });
    return;
  }
  task.set_state(created->status == TaskStatus::kRunning ? v1::TASK_STATE_RUNNING
                                                         : v1::TASK_STATE_PENDING);
  Commit(a, store::Durability::kSynced, [this, a] {
    SetBillable(a, false);  // the upstream id is durable: a restart polls it
    SchedulePoll(a);
  });
}

void TaskManager::SubmitSync(const ActivePtr& a) {
  v1::Task& task = a->record.task;
  dashscope::GenerationParams params = ToParams(task.spec());
  // An edit's inputs are read before the marker: a store that cannot give them costs nothing.
  if (task.spec().input_images_size() > 0) {
    absl::StatusOr<std::vector<std::string>> images = LoadInputImages(images_, task);
    if (!images.ok()) {
      OnInputImagesUnavailable(a, images.status());
      return;
    }
    params.images = *std::move(images);
  }
  absl::Time now = clock_.Now();
  task.set_queue_position(0);
  task.set_state(v1::TASK_STATE_RUNNING);
  ToProto(now, task.mutable_submit_time());
  ToProto(now, task.mutable_start_time());
  // RUNNING with a submit_time tells a restart that the call may have been billed.
  SendOnceStored(a, [this, a, params = std::move(params)] {
    upstream_.Generate(params, OnStrand(a, &TaskManager::OnSyncResult));
  });
}

void TaskManager::OnInputImagesUnavailable(const ActivePtr& a, const absl::Status& status) {
  ReleaseSlot(a);
  if (absl::IsNotFound(status) || absl::IsDataLoss(status)) {
    Finish(a, v1::TASK_STATE_FAILED,
           InputImageLost(absl::StrCat("nothing was sent: ", status.message())));
    return;
  }
  // The store failed (an S3 outage, say): the task waits at the head of its line.
  const absl::Duration delay = BackoffDelay(options_.store_retry, ++a->input_read_attempts);
  spdlog::warn("task {}: tenant={} reading its input images failed ({}); trying again in {}",
               a->id, a->tenant, status.ToString(), absl::FormatDuration(delay));
  RequeueAfter(a, delay);
}

void TaskManager::OnSyncResult(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> result) {
  a->call_in_flight = false;
  if (!result.ok()) {
    OnSubmitFailed(a, result.status());
    return;
  }
  if (Stopping()) return;
  a->refused_since.reset();
  ReleaseSlot(a);
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state())) {  // cancelled: the result is discarded
    SetBillable(a, false);
    return;
  }
  AddRequestId(task, result->request_id);
  RecordDuration(a->model, clock_.Now() - FromProto(task.start_time()));
  StartDownloads(a, *std::move(result));
}

void TaskManager::OnSubmitFailed(const ActivePtr& a, const absl::Status& status) {
  a->call_in_flight = false;
  if (Stopping()) return;  // leave the record as it is; the next start decides
  v1::Task& task = a->record.task;
  const UpstreamError::Kind kind = KindOf(status);
  const bool async = task.upstream_mode() == v1::UPSTREAM_MODE_ASYNC;
  AddRequestId(task, status);
  SetBillable(a, false);
  if (kind == UpstreamError::Kind::kOutcomeUnknown && async) {
    // It may exist upstream, holding one of the account's slots: keep the slot and find it.
    // A cancelled task is looked up too, so that the upstream task it made is claimed and can
    // never be adopted by another.
    spdlog::warn("task {}: tenant={} upstream_request_id={} create outcome unknown ({}); "
                 "looking it up, not sending it again",
                 a->id, a->tenant, UpstreamRequestId(status), std::string(status.message()));
    ResolveUnknownCreate(a, clock_.Now(), std::string(status.message()));
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
  // Before the slot is freed, so that freeing it admits nothing while the key is refused.
  if (kind == UpstreamError::Kind::kCredentials) OnCredentialsRefused(status);
  ReleaseSlot(a);
  if (IsTerminal(task.state())) {  // cancelled meanwhile
    Commit(a, store::Durability::kRelaxed);
    return;
  }
  if (kind == UpstreamError::Kind::kOutcomeUnknown) {  // a sync call: there is no lookup
    Finish(a, v1::TASK_STATE_FAILED,
           SubmitOutcomeUnknown(absl::StrCat(status.message()), /*candidates=*/{}));
    return;
  }
  const BackoffPolicy& policy = options_.submit_backoff;
  const bool send_again =
      kind == UpstreamError::Kind::kThrottled || kind == UpstreamError::Kind::kCredentials ||
      (kind == UpstreamError::Kind::kRetryable && a->submit_attempts < policy.max_attempts);
  if (!send_again) {
    Finish(a, v1::TASK_STATE_FAILED, UpstreamCallError(status));
    return;
  }
  // DashScope said it did no work: the task goes back to the head of its line.
  absl::Duration delay = BackoffDelay(policy, a->submit_attempts, CappedRetryAfter(status));
  if (kind == UpstreamError::Kind::kThrottled) scheduler_.Throttle(a->model, delay);
  if (kind == UpstreamError::Kind::kCredentials) {
    delay = absl::ZeroDuration();  // the paused scheduler holds it
    a->submit_attempts = 0;
    // Outages can come and go (a probe that passes, then a refused submit): the task's own
    // first refusal bounds its wait.
    const absl::Time now = clock_.Now();
    if (!a->refused_since.has_value()) a->refused_since = now;
    if (now - *a->refused_since >= options_.key_outage_timeout) {
      Finish(a, v1::TASK_STATE_FAILED,
             KeyOutage("upstream refused the gateway's DashScope API key for longer than the key "
                       "outage timeout; the task was never sent"));
      return;
    }
  }
  std::optional<UpstreamError> error = dashscope::GetUpstreamError(status);
  observer().OnSubmitRetry(a->model, error.has_value() ? error->code : "Unknown");
  spdlog::warn(
      "task {}: tenant={} upstream_request_id={} upstream refused the submission ({}); "
      "sending it again in {}",
      a->id, a->tenant, UpstreamRequestId(status), std::string(status.message()),
      absl::FormatDuration(delay));
  BackToQueued(task);
  Commit(a, store::Durability::kSynced, [this, a, kind, delay] {
    RequeueAfter(a, kind == UpstreamError::Kind::kRetryable ? delay : absl::ZeroDuration());
  });
}

void TaskManager::RequeueAfter(const ActivePtr& a, absl::Duration delay) {
  auto requeue = [this, a] {
    a->strand->Post([this, a] {
      // Draining: it stays QUEUED in the store and the next start queues it again.
      if (IsTerminal(a->record.task.state()) || Draining()) return;
      absl::StatusOr<int> position =
          scheduler_.Enqueue(a->model, a->tenant, a->id, /*front=*/true,
                             FromProto(a->record.task.create_time()));
      if (!position.ok()) Finish(a, v1::TASK_STATE_FAILED, QueueFull(position.status().message()));
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
  if (IsTerminal(task.state()) || Draining()) return;
  std::optional<absl::Time> started;
  if (task.state() == v1::TASK_STATE_RUNNING && task.has_start_time()) {
    started = FromProto(task.start_time());
  }
  planner_.Track(a->id, task.upstream_task_id(), a->model,
                 task.has_submit_time() ? FromProto(task.submit_time()) : clock_.Now(), started);
  WakePoller();
}

void TaskManager::DoPoll(const ActivePtr& a) {
  if (IsTerminal(a->record.task.state()) || Draining()) return;
  upstream_.GetTask(a->record.task.upstream_task_id(), OnStrand(a, &TaskManager::OnPolled));
}

void TaskManager::OnPolled(const ActivePtr& a, absl::StatusOr<dashscope::UpstreamTask> polled) {
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state()) || Stopping()) return;
  if (!polled.ok()) {
    const UpstreamError::Kind kind = KindOf(polled.status());
    if (kind == UpstreamError::Kind::kTerminal) {
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_FAILED, UpstreamCallError(polled.status()));
      return;
    }
    ++a->poll_failures;
    if (kind == UpstreamError::Kind::kCredentials) OnCredentialsRefused(polled.status());
    if (kind == UpstreamError::Kind::kThrottled) {
      query_budget_.PauseUntil(clock_.Now() + BackoffDelay(options_.submit_backoff,
                                                           a->poll_failures,
                                                           CappedRetryAfter(polled.status())));
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
        Commit(a, store::Durability::kRelaxed);
      }
      SchedulePoll(a);
      return;
    case TaskStatus::kRunning:
      if (task.state() != v1::TASK_STATE_RUNNING) {
        AddRequestId(task, polled->request_id);
        task.set_state(v1::TASK_STATE_RUNNING);
        ToProto(polled->scheduled_time.value_or(clock_.Now()), task.mutable_start_time());
        Commit(a, store::Durability::kRelaxed);
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
    case TaskStatus::kFailed:
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_FAILED,
             UpstreamTaskError(polled->code, polled->message, polled->request_id));
      return;
    case TaskStatus::kCanceled:
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_CANCELLED, CanceledUpstream());
      return;
    case TaskStatus::kUnknown:
      ReleaseSlot(a);
      Finish(a, v1::TASK_STATE_FAILED, UpstreamTaskUnknown());
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
    e->set_message(UpstreamText(f.message));
  }
  v1::Usage* usage = task.mutable_usage();
  usage->set_image_count(result.image_count > 0 ? result.image_count
                                                : static_cast<int>(result.images.size()));
  usage->set_width(result.width);
  usage->set_height(result.height);
  if (result.images.empty()) {
    Finish(a, v1::TASK_STATE_FAILED,
           result.failures.empty()
               ? NoImages("NoImages", "upstream returned no image")
               : UpstreamTaskError(result.failures.front().code, result.failures.front().message,
                                   result.request_id));
    return;
  }
  // The images are billed: drain waits until they are stored.
  SetBillable(a, true);
  a->downloads_started = clock_.Now();
  fetcher_.Fetch(a->id, task.spec().prompt(), std::move(result.images),
                 [this, a](ImageFetcher::Outcome outcome) mutable {
                   a->strand->Post([this, a, outcome = std::move(outcome)]() mutable {
                     OnImagesFetched(a, std::move(outcome));
                   });
                 });
}

void TaskManager::OnImagesFetched(const ActivePtr& a, ImageFetcher::Outcome outcome) {
  if (Stopping()) return;
  v1::Task& task = a->record.task;
  if (IsTerminal(task.state())) {
    // Cancelled while downloading: the result is discarded, and so are its files.
    if (absl::Status s = images_.DeleteTask(a->id); !s.ok()) {
      spdlog::warn("task {}: removing the images of a cancelled task failed: {}", a->id,
                   s.ToString());
    }
    SetBillable(a, a->call_in_flight);
    return;
  }
  for (v1::ImageError& e : outcome.errors) *task.add_image_errors() = std::move(e);
  if (outcome.images.empty()) {
    Finish(a, v1::TASK_STATE_FAILED,
           DownloadFailed(absl::StrCat("no image could be downloaded and stored: ",
                                       task.image_errors(task.image_errors_size() - 1).message())));
    return;
  }
  task.clear_images();
  for (v1::Image& image : outcome.images) *task.add_images() = std::move(image);
  observer().OnImagesStored(a->model, clock_.Now() - a->downloads_started);
  // A lost image is reported in image_errors, as upstream reports a partial failure.
  Finish(a, v1::TASK_STATE_SUCCEEDED, std::nullopt);
}

void TaskManager::CancelOnStrand(const ActivePtr& a, TaskCallback done) {
  v1::Task& task = a->record.task;
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
    Finish(a, v1::TASK_STATE_CANCELLED, CancelledByCaller());
    done(task);
    return;
  }
  const std::string upstream_id = task.upstream_task_id();
  auto on_reply = [this, a, done = std::move(done)](absl::StatusOr<std::string> reply) mutable {
    a->strand->Post([this, a, done = std::move(done), reply = std::move(reply)]() mutable {
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
      Finish(a, v1::TASK_STATE_CANCELLED, CancelledByCaller());
      done(a->record.task);
    });
  };
  executor_.RunAt(query_budget_.Reserve(),
                  [this, upstream_id, on_reply = std::move(on_reply)]() mutable {
                    if (Stopping()) {  // the upstream client may be gone
                      on_reply(absl::CancelledError("the gateway is shutting down"));
                      return;
                    }
                    upstream_.CancelTask(upstream_id, std::move(on_reply));
                  });
}

}  // namespace qwenimage::tasks
