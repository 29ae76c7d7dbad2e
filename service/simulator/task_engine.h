// Simulated upstream work: async tasks and sync generations alike run through per-(key, model)
// lanes that apply the account limits (submit rate, running tasks) and timers on the event loop.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_TASK_ENGINE_H_
#define QWENIMAGE_SERVICE_SIMULATOR_TASK_ENGINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/errors.h"
#include "service/simulator/event_loop.h"
#include "service/simulator/faults.h"
#include "service/simulator/images.h"
#include "service/simulator/options.h"
#include "service/simulator/request.h"
#include "service/simulator/stats.h"

namespace qwenimage::simulator {

enum class TaskStatus { kPending, kRunning, kSucceeded, kFailed, kCanceled };
absl::string_view StatusName(TaskStatus status);

// A random UUID-shaped id ("8-4-4-4-12" hex), as DashScope uses for task and request ids.
std::string NewUuid(absl::BitGen& rng);

// One image of a finished task: a URL, or an error (partial failure).
struct ImageResult {
  std::string url;
  std::string code;
  std::string message;
};

struct Task {
  std::string id;
  std::string request_id;  // of the create call
  std::string key;         // the API key that created it: tasks are visible to it only
  bool sync = false;       // a held sync call: never visible to the task APIs
  ImageRequest request;
  FaultPlan plan;
  absl::Duration duration;  // RUNNING time, already scaled
  TaskStatus status = TaskStatus::kPending;
  absl::Time submit_time = absl::InfinitePast();
  absl::Time scheduled_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  std::string code;  // FAILED only
  std::string message;
  std::vector<ImageResult> results;  // terminal SUCCEEDED / FAILED only

  int Succeeded() const;
};

class TaskEngine {
 public:
  using DoneCallback = std::function<void(const Task&)>;

  TaskEngine(const SimulatorOptions& options, EventLoop* loop, Stats* stats, const ImageUrls* urls,
             absl::BitGen* rng);

  // The limits checks of a create, consuming a submit token: 429 Throttling.RateQuota past the
  // submit rate, 429 Throttling.Concurrency when the lane is full and its mode is reject.
  std::optional<ApiError> Admit(const std::string& key, const ModelSpec& model, bool sync);

  // Creates a PENDING task that starts when its lane has room. `on_done` runs once it ends.
  const Task& Submit(const std::string& key, const std::string& request_id, ImageRequest request,
                     FaultPlan plan, bool sync, DoneCallback on_done);

  // An async task of `key`, or nullptr (unknown, purged, another key's).
  const Task* Find(const std::string& key, const std::string& id) const;
  // False unless the task is PENDING (then it becomes CANCELED).
  bool Cancel(const std::string& key, const std::string& id);
  // The task-API (GET task, list, cancel) QPS limit of `key`.
  bool AllowTaskApiCall(const std::string& key);

  std::vector<const Task*> TasksOf(const std::string& key) const;  // async tasks only
  std::map<std::string, int64_t> CountByStatus() const;
  void DropFinishedTasks();

 private:
  struct Lane {
    int admitted = 0;  // PENDING + RUNNING
    int running = 0;
    std::deque<std::string> queue;  // PENDING ids past their pending delay, FIFO
  };
  struct Bucket {
    double tokens = -1;  // < 0: not yet initialised
    absl::Time last;
  };

  absl::Duration Scaled(absl::Duration d) const { return d * options_.time_scale; }
  int RunningLimit(const std::string& model) const;
  bool Take(Bucket& bucket, double rate);
  void Pump(const std::string& lane_key);
  void Finish(const std::string& id);
  void SchedulePurge(const std::string& id, absl::Duration after);

  const SimulatorOptions& options_;
  EventLoop* loop_;
  Stats* stats_;
  const ImageUrls* urls_;
  absl::BitGen* rng_;

  absl::node_hash_map<std::string, Task> tasks_;  // node map: Task& stays valid
  absl::flat_hash_map<std::string, DoneCallback> on_done_;
  std::map<std::string, Lane> lanes_;  // by key + "\n" + model
  std::map<std::string, Bucket> submit_buckets_;
  std::map<std::string, Bucket> query_buckets_;
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_TASK_ENGINE_H_
