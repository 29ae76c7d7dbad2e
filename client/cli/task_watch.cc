// WatchToEnd: reads TaskEvents, skipping heartbeats in plain output, and re-issues WatchTask
// after a Reconnect (a draining server) a bounded number of times.
#include "client/cli/task_watch.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/exit_codes.h"
#include "client/cli/task_format.h"

namespace qwenimage::cli {
namespace {

constexpr int kMaxReconnects = 5;
constexpr absl::Duration kRedrawInterval = absl::Milliseconds(200);

absl::Duration Elapsed(const v1::Task& task, absl::Time started) {
  absl::Time from = task.has_create_time()
                        ? absl::FromUnixSeconds(task.create_time().seconds()) +
                              absl::Nanoseconds(task.create_time().nanos())
                        : started;
  return std::max(absl::Now() - from, absl::ZeroDuration());
}

// Prints events. On a terminal a ticker thread also redraws the progress line a few times a
// second, so that the elapsed time moves between events (which may be 15 s apart).
class EventPrinter {
 public:
  explicit EventPrinter(Output& out) : out_(out) {
    if (out_.tty() && !out_.json()) ticker_ = std::thread([this] { Tick(); });
  }

  ~EventPrinter() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    if (ticker_.joinable()) ticker_.join();
  }

  void Print(const v1::TaskEvent& event, const v1::Task& task) {
    absl::MutexLock lock(&mu_);
    if (out_.json()) {
      if (!event.has_heartbeat()) out_.Json(event);
      return;
    }
    if (out_.tty()) {
      last_ = task;
      out_.Progress(ProgressLine(task, Elapsed(task, started_)));
      if (IsTerminal(task.state())) {
        out_.EndProgress();
        done_ = true;
      }
      return;
    }
    if (!event.has_task()) return;
    if (last_.has_value() && task.state() == last_->state() &&
        task.queue_position() == last_->queue_position()) {
      return;
    }
    last_ = task;
    out_.Line(TaskLine(task));
  }

 private:
  void Tick() {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&done_), kRedrawInterval)) {
      if (last_.has_value()) out_.Progress(ProgressLine(*last_, Elapsed(*last_, started_)));
    }
  }

  absl::Mutex mu_;
  Output& out_ ABSL_GUARDED_BY(mu_);
  const absl::Time started_ = absl::Now();
  std::optional<v1::Task> last_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

}  // namespace

grpc::Status WatchToEnd(Invocation& inv, const std::string& task_id, v1::Task* last) {
  EventPrinter printer(inv.out());
  v1::WatchTaskRequest req;
  req.set_task_id(task_id);
  for (int attempt = 0; attempt <= kMaxReconnects; ++attempt) {
    auto ctx = inv.NewContext(/*wait=*/true);
    auto reader = inv.stub().WatchTask(ctx.get(), req);
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      if (event.has_task()) *last = event.task();
      printer.Print(event, *last);
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) return status;
    if (IsTerminal(last->state())) return status;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("the stream of task ", task_id,
                                   " kept ending before the task finished"));
}

int FinishedTaskExitCode(Invocation& inv, const v1::Task& task) {
  if (task.state() == v1::TASK_STATE_SUCCEEDED) return kExitOk;
  std::string error = ErrorText(task);
  inv.Fail(absl::StrCat("task ", task.id(), " ", StateName(task.state()),
                        error.empty() ? "" : ": ", error),
           kExitTaskFailed);
  return kExitTaskFailed;
}

}  // namespace qwenimage::cli
