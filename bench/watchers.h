// Watchers: many WatchTask streams on the callback API, each recording when its task's events
// arrive; the caller waits until every watched task is terminal (or cancels them all).
#ifndef QWENIMAGE_BENCH_WATCHERS_H_
#define QWENIMAGE_BENCH_WATCHERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "qwenimage/v1/image_service.grpc.pb.h"

namespace qwenimage::bench {

// What one stream saw.
struct WatchRecord {
  std::string task_id;
  std::string tenant;
  bool first_event = false;          // the snapshot arrived
  absl::Time terminal_at;            // arrival of the first terminal event (InfinitePast: none)
  v1::Task final_task;               // that event's task
  std::vector<int> queue_positions;  // every queue_position reported while QUEUED
  grpc::Status status;               // how the stream ended
  bool done = false;
};

class Watchers {
 public:
  Watchers();
  ~Watchers();  // cancels what is still open and waits for it

  // Opens one stream for `task_id` of `tenant` on `stub` (which must outlive the watchers).
  void Watch(v1::ImageService::Stub& stub, const std::string& tenant, const std::string& task_id);
  // Waits until `n` streams have had their first event, or `timeout` passed.
  bool AwaitSnapshots(size_t n, absl::Duration timeout);
  // Waits until every stream has seen a terminal task or ended, or `timeout` passed.
  bool AwaitTerminal(absl::Duration timeout);
  void CancelAll();
  std::vector<WatchRecord> Records();

 private:
  class Stream;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Stream>> streams_;  // appended by Watch only
  size_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  size_t settled_ ABSL_GUARDED_BY(mu_) = 0;  // terminal seen or stream ended
  size_t ended_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace qwenimage::bench

#endif  // QWENIMAGE_BENCH_WATCHERS_H_
