// Human formatting of tasks and models: one fact per line, durations relative to create_time.
#include "client/cli/task_format.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

namespace qwenimage::cli {
namespace {

constexpr absl::string_view kStatePrefix = "TASK_STATE_";

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

// "+1.2s" after creation, or empty when the timestamp is unset.
std::string Offset(const v1::Task& task, const google::protobuf::Timestamp& ts) {
  if (!IsSet(ts)) return "";
  return absl::StrCat("+", absl::FormatDuration(absl::Trunc(
                               ToTime(ts) - ToTime(task.create_time()), absl::Milliseconds(1))));
}

}  // namespace

std::string StateName(v1::TaskState state) {
  std::string name = v1::TaskState_Name(state);
  if (absl::StartsWith(name, kStatePrefix)) name.erase(0, kStatePrefix.size());
  return name;
}

bool ParseState(absl::string_view text, v1::TaskState* state) {
  std::string name = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(name, kStatePrefix)) name = absl::StrCat(kStatePrefix, name);
  return v1::TaskState_Parse(name, state) && *state != v1::TASK_STATE_UNSPECIFIED;
}

bool IsTerminal(v1::TaskState state) {
  return state == v1::TASK_STATE_SUCCEEDED || state == v1::TASK_STATE_FAILED ||
         state == v1::TASK_STATE_CANCELLED;
}

std::string TaskLine(const v1::Task& task) {
  std::string line = absl::StrCat(task.id(), "  ", StateName(task.state()));
  if (task.queue_position() > 0) absl::StrAppend(&line, "  queue #", task.queue_position());
  absl::StrAppend(&line, "  ", task.spec().model());
  return line;
}

std::vector<std::string> TaskDetails(const v1::Task& task) {
  std::vector<std::string> lines = {TaskLine(task)};
  const v1::GenerationSpec& spec = task.spec();
  lines.push_back(absl::StrCat("  prompt: ", spec.prompt()));
  lines.push_back(absl::StrCat("  size ", spec.size(), "  n ", spec.n(),
                               spec.has_seed() ? absl::StrCat("  seed ", spec.seed()) : "",
                               "  region ", task.region()));
  if (IsSet(task.create_time())) {
    std::vector<std::string> timings = {
        absl::StrCat("created ", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                                  ToTime(task.create_time()), absl::UTCTimeZone()))};
    if (IsSet(task.submit_time())) timings.push_back("submitted " + Offset(task, task.submit_time()));
    if (IsSet(task.start_time())) timings.push_back("started " + Offset(task, task.start_time()));
    if (IsSet(task.end_time())) timings.push_back("ended " + Offset(task, task.end_time()));
    lines.push_back(absl::StrCat("  ", absl::StrJoin(timings, "  ")));
  }
  if (!task.request_id().empty()) lines.push_back("  request_id: " + task.request_id());
  if (!task.upstream_task_id().empty()) {
    lines.push_back("  upstream task: " + task.upstream_task_id());
  }
  for (const v1::Image& image : task.images()) {
    lines.push_back(absl::StrCat("  image ", image.index(), ": ", image.width(), "x",
                                 image.height(), "  ", image.size_bytes(), " bytes  sha256 ",
                                 image.sha256()));
  }
  for (const v1::ImageError& error : task.image_errors()) {
    lines.push_back(absl::StrCat("  image ", error.index(), " failed: ", error.code(), ": ",
                                 error.message()));
  }
  if (task.has_error()) lines.push_back("  error: " + ErrorText(task));
  return lines;
}

std::string ProgressLine(const v1::Task& task, absl::Duration elapsed) {
  const absl::Duration shown = absl::Trunc(elapsed, absl::Milliseconds(100));
  return absl::StrCat(TaskLine(task), "  elapsed ",
                      shown == absl::ZeroDuration() ? "0s" : absl::FormatDuration(shown));
}

std::string ErrorText(const v1::Task& task) {
  if (!task.has_error()) return "";
  const v1::TaskError& e = task.error();
  std::string line = absl::StrCat(e.code(), ": ", e.message());
  if (!e.upstream_request_id().empty()) {
    absl::StrAppend(&line, " (upstream request ", e.upstream_request_id(), ")");
  }
  if (e.retryable()) absl::StrAppend(&line, " [retryable]");
  return line;
}

std::string ModelLine(const v1::Model& model) {
  std::string line = absl::StrCat(
      model.name(), "  ", model.upstream_mode() == v1::UPSTREAM_MODE_ASYNC ? "async" : "sync");
  if (model.sizes_size() > 0) {
    absl::StrAppend(&line, "  sizes ", absl::StrJoin(model.sizes(), ","));
  } else if (model.max_side() > 0) {
    absl::StrAppend(&line, "  sides ", model.min_side(), "..", model.max_side());
  } else if (model.size_from_inputs()) {
    absl::StrAppend(&line, "  size from the input");
  } else {
    absl::StrAppend(&line, "  pixels ", model.min_pixels(), "..", model.max_pixels());
  }
  if (!model.default_size().empty()) absl::StrAppend(&line, "  default ", model.default_size());
  absl::StrAppend(&line, "  n ", model.min_n(), "..", model.max_n());
  if (model.max_input_images() > 0) {
    absl::StrAppend(&line, "  input images ", model.min_input_images(), "..",
                    model.max_input_images());
  }
  if (model.regions_size() > 0) {
    absl::StrAppend(&line, "  regions ", absl::StrJoin(model.regions(), ","));
  }
  if (model.default_max_running_tasks() > 0) {
    absl::StrAppend(&line, "  account limits ", model.default_max_running_tasks(), " running ",
                    model.default_submits_per_second(), "/s");
  }
  absl::StrAppend(&line, "  queued ", model.queued_tasks(), "  running ", model.running_tasks());
  if (!model.snapshot_of().empty()) absl::StrAppend(&line, "  (snapshot of ", model.snapshot_of(), ")");
  return line;
}

}  // namespace qwenimage::cli
