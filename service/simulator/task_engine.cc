// Task lifecycle (PENDING → RUNNING → SUCCEEDED/FAILED, PENDING → CANCELED, purge → UNKNOWN),
// account limits and the lanes that hold work beyond the running limit.
#include "service/simulator/task_engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"

namespace qwenimage::simulator {
namespace {

std::string LaneKey(const std::string& key, absl::string_view model) {
  return absl::StrCat(key, "\n", model);
}

constexpr absl::string_view kOutputModeration = "Output data may contain inappropriate content.";

}  // namespace

absl::string_view StatusName(TaskStatus status) {
  static constexpr absl::string_view kNames[] = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED",
                                                 "CANCELED"};
  return kNames[static_cast<int>(status)];
}

std::string NewUuid(absl::BitGen& rng) {
  uint64_t a = absl::Uniform<uint64_t>(rng), b = absl::Uniform<uint64_t>(rng);
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                         b >> 48, b & 0xffffffffffffull);
}

int Task::Succeeded() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(),
                                        [](const ImageResult& r) { return r.code.empty(); }));
}

TaskEngine::TaskEngine(const SimulatorOptions& options, EventLoop* loop, Stats* stats,
                       const ImageUrls* urls, absl::BitGen* rng)
    : options_(options), loop_(loop), stats_(stats), urls_(urls), rng_(rng) {}

int TaskEngine::RunningLimit(const std::string& model) const {
  if (!options_.limits) return 0;
  auto it = options_.model_running_limit.find(model);
  return it != options_.model_running_limit.end() ? it->second : options_.running_limit;
}

bool TaskEngine::Take(Bucket& bucket, double rate) {
  if (rate <= 0) return true;
  const double burst = std::max(rate, 1.0);
  absl::Time now = absl::Now();
  if (bucket.tokens < 0) {
    bucket.tokens = burst;
  } else {
    bucket.tokens = std::min(burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.last) * rate);
  }
  bucket.last = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

std::optional<ApiError> TaskEngine::Admit(const std::string& key, const ModelSpec& model,
                                          bool sync) {
  if (!options_.limits) return std::nullopt;
  const std::string model_name(model.name);
  auto rate_it = options_.submit_rate.find(model_name);
  double rate = rate_it != options_.submit_rate.end() ? rate_it->second : options_.default_submit_rate;
  if (!Take(submit_buckets_[LaneKey(key, model_name)], rate)) {
    return ErrorForCode("Throttling.RateQuota");
  }
  int limit = RunningLimit(model_name);
  OverLimit mode = sync ? options_.sync_over_limit : options_.async_over_limit;
  if (limit > 0 && mode == OverLimit::kReject && lanes_[LaneKey(key, model_name)].admitted >= limit) {
    return ErrorForCode("Throttling.Concurrency");
  }
  return std::nullopt;
}

bool TaskEngine::AllowTaskApiCall(const std::string& key) {
  return !options_.limits || Take(query_buckets_[key], options_.task_api_qps);
}

const Task& TaskEngine::Submit(const std::string& key, const std::string& request_id,
                               ImageRequest request, FaultPlan plan, bool sync,
                               DoneCallback on_done) {
  std::string id = NewUuid(*rng_);
  Task& task = tasks_[id];
  task.id = id;
  task.request_id = request_id;
  task.key = key;
  task.sync = sync;
  task.submit_time = absl::Now();
  auto range_it = options_.model_durations.find(std::string(request.model->name));
  const DurationRange& range =
      range_it != options_.model_durations.end() ? range_it->second : options_.task_duration;
  absl::Duration d = range.min;
  if (range.max > range.min) {
    d += absl::Nanoseconds(
        absl::Uniform<int64_t>(*rng_, 0, absl::ToInt64Nanoseconds(range.max - range.min)));
  }
  task.duration = Scaled(d);
  task.request = std::move(request);
  task.plan = std::move(plan);
  if (on_done) on_done_[id] = std::move(on_done);

  std::string lane_key = LaneKey(key, task.request.model->name);
  ++lanes_[lane_key].admitted;
  if (sync) {
    stats_->CountSyncGeneration();
  } else {
    stats_->CountAsyncCreate();
    SchedulePurge(id, Scaled(options_.task_ttl));
  }
  loop_->RunAfter(Scaled(options_.pending_delay), [this, id, lane_key] {
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.status != TaskStatus::kPending) return;
    lanes_[lane_key].queue.push_back(id);
    Pump(lane_key);
  });
  return task;
}

void TaskEngine::Pump(const std::string& lane_key) {
  Lane& lane = lanes_[lane_key];
  while (!lane.queue.empty()) {
    auto it = tasks_.find(lane.queue.front());
    if (it == tasks_.end() || it->second.status != TaskStatus::kPending) {
      lane.queue.pop_front();
      continue;
    }
    Task& task = it->second;
    int limit = RunningLimit(std::string(task.request.model->name));
    if (limit > 0 && lane.running >= limit) return;
    lane.queue.pop_front();
    ++lane.running;
    task.status = TaskStatus::kRunning;
    task.scheduled_time = absl::Now();
    stats_->RunningChanged(std::string(task.request.model->name), +1);
    loop_->RunAfter(task.duration, [this, id = task.id] { Finish(id); });
  }
}

void TaskEngine::Finish(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& task = it->second;
  const ImageRequest& req = task.request;
  task.end_time = absl::Now();
  const int failing = std::min(task.plan.partial, req.n);
  if (!task.plan.task_fail_code.empty()) {
    ApiError e = ErrorForCode(task.plan.task_fail_code);
    task.status = TaskStatus::kFailed;
    task.code = e.code;
    task.message = e.message;
  } else if (failing == req.n) {
    task.status = TaskStatus::kFailed;
    task.code = "DataInspectionFailed";
    task.message = std::string(kOutputModeration);
  } else {
    task.status = TaskStatus::kSucceeded;
    const absl::Time expires = task.end_time + Scaled(options_.image_ttl);
    for (int i = 0; i < req.n; ++i) {
      if (i >= req.n - failing) {
        task.results.push_back({"", "DataInspectionFailed", std::string(kOutputModeration)});
      } else {
        // An edit's pattern also depends on its inputs, in order.
        const std::string inputs = absl::StrJoin(req.input_sha256, ",");
        ImageRef ref{req.width, req.height, Fnv1a64(inputs, ImageKey(req.prompt, req.seed, i)),
                     inputs};
        task.results.push_back({urls_->Make(ref, expires), "", ""});
      }
    }
  }
  const std::string model(req.model->name);
  const std::string lane_key = LaneKey(task.key, model);
  Lane& lane = lanes_[lane_key];
  --lane.running;
  --lane.admitted;
  stats_->RunningChanged(model, -1);

  if (auto cb = on_done_.find(id); cb != on_done_.end()) {
    DoneCallback done = std::move(cb->second);
    on_done_.erase(cb);
    done(task);
  }
  if (task.sync) tasks_.erase(id);
  Pump(lane_key);
}

void TaskEngine::SchedulePurge(const std::string& id, absl::Duration after) {
  loop_->RunAfter(after, [this, id, after] {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    TaskStatus s = it->second.status;
    if (s == TaskStatus::kPending || s == TaskStatus::kRunning) {
      SchedulePurge(id, after);  // still in flight: look again one retention period later
      return;
    }
    tasks_.erase(it);
  });
}

const Task* TaskEngine::Find(const std::string& key, const std::string& id) const {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.sync || it->second.key != key) return nullptr;
  return &it->second;
}

bool TaskEngine::Cancel(const std::string& key, const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.sync || it->second.key != key ||
      it->second.status != TaskStatus::kPending) {
    return false;
  }
  Task& task = it->second;
  task.status = TaskStatus::kCanceled;
  task.end_time = absl::Now();
  Lane& lane = lanes_[LaneKey(key, task.request.model->name)];
  --lane.admitted;
  lane.queue.erase(std::remove(lane.queue.begin(), lane.queue.end(), id), lane.queue.end());
  on_done_.erase(id);
  return true;
}

std::vector<const Task*> TaskEngine::TasksOf(const std::string& key) const {
  std::vector<const Task*> out;
  for (const auto& [id, task] : tasks_) {
    if (!task.sync && task.key == key) out.push_back(&task);
  }
  return out;
}

std::map<std::string, int64_t> TaskEngine::CountByStatus() const {
  std::map<std::string, int64_t> out;
  for (TaskStatus s : {TaskStatus::kPending, TaskStatus::kRunning, TaskStatus::kSucceeded,
                       TaskStatus::kFailed, TaskStatus::kCanceled}) {
    out[std::string(StatusName(s))] = 0;
  }
  for (const auto& [id, task] : tasks_) {
    if (!task.sync) ++out[std::string(StatusName(task.status))];
  }
  return out;
}

void TaskEngine::DropFinishedTasks() {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const Task& t = it->second;
    bool finished = t.status != TaskStatus::kPending && t.status != TaskStatus::kRunning;
    if (!t.sync && finished) {
      tasks_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace qwenimage::simulator
