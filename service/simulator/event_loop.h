// One libevent event_base driven by one thread: the simulator's only thread of execution. All
// simulator state is touched only from callbacks on this loop, so it needs no locks.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_EVENT_LOOP_H_
#define QWENIMAGE_SERVICE_SIMULATOR_EVENT_LOOP_H_

#include <functional>
#include <thread>
#include <unordered_set>

#include "absl/time/time.h"

struct event;
struct event_base;

namespace qwenimage::simulator {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  // Stop()s, then frees timers that never fired.
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_; }

  // Starts the loop thread. Everything registered before is driven from then on.
  void Start();
  // Thread-safe: breaks the loop and joins its thread. Idempotent.
  void Stop();

  // Runs `fn` on the loop after `delay` (zero = next iteration). Loop thread only (or before Start).
  void RunAfter(absl::Duration delay, std::function<void()> fn);

 private:
  struct Timer;
  static void OnTimer(int fd, short what, void* arg);

  event_base* base_;
  // Activated by Stop(): unlike a bare loopbreak it is not lost if the thread has not yet
  // entered event_base_loop (which clears pending breaks on entry).
  event* stop_event_;
  std::thread thread_;
  std::unordered_set<Timer*> timers_;  // loop-thread only
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_EVENT_LOOP_H_
