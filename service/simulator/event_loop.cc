// One libevent event_base driven by one thread, with one-shot timers whose closures are freed
// either when they fire or when the loop is destroyed.
#include "service/simulator/event_loop.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <pthread.h>
#include <signal.h>

#include <mutex>
#include <utility>

namespace qwenimage::simulator {

struct EventLoop::Timer {
  EventLoop* loop;
  event* ev;
  std::function<void()> fn;
};

EventLoop::EventLoop() {
  // Makes event_base_loopbreak() safe to call from the thread that owns the Simulator.
  static std::once_flag once;
  std::call_once(once, [] { evthread_use_pthreads(); });
  base_ = event_base_new();
  stop_event_ = event_new(
      base_, -1, 0, [](int, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); },
      base_);
}

EventLoop::~EventLoop() {
  Stop();
  for (Timer* t : timers_) {
    event_free(t->ev);
    delete t;
  }
  event_free(stop_event_);
  event_base_free(base_);
}

void EventLoop::Start() {
  thread_ = std::thread([this] {
    // A write to a peer that left raises SIGPIPE in the writing thread; blocked here, it stays
    // pending instead of killing the embedding process, and the write just fails with EPIPE.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  });
}

void EventLoop::Stop() {
  if (!thread_.joinable()) return;
  event_active(stop_event_, EV_READ, 0);
  thread_.join();
}

void EventLoop::RunAfter(absl::Duration delay, std::function<void()> fn) {
  auto* t = new Timer{this, nullptr, std::move(fn)};
  t->ev = evtimer_new(base_, &EventLoop::OnTimer, t);
  timeval tv = absl::ToTimeval(std::max(delay, absl::ZeroDuration()));
  evtimer_add(t->ev, &tv);
  timers_.insert(t);
}

void EventLoop::OnTimer(int, short, void* arg) {
  auto* t = static_cast<Timer*>(arg);
  t->loop->timers_.erase(t);
  std::function<void()> fn = std::move(t->fn);
  event_free(t->ev);
  delete t;
  fn();
}

}  // namespace qwenimage::simulator
