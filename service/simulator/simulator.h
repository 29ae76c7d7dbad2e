// An offline twin of DashScope's Qwen-Image HTTP API (sync generation, async tasks, limits,
// faults, expiring PNG URLs), embeddable in-process or run as dashscope-sim.
//
// HTTP server: libevent's evhttp (Debian libevent 2.1). One event-loop thread owns all simulator
// state, so nothing is locked, and held sync replies and task progress are timers on that loop,
// not blocked threads. That serves thousands of requests per second on one core, far above what a
// gateway under DashScope's account limits ever sends, so it is never the benchmark's bottleneck.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_SIMULATOR_H_
#define QWENIMAGE_SERVICE_SIMULATOR_SIMULATOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/simulator/options.h"

namespace qwenimage::simulator {

class EventLoop;
class Server;

class Simulator {
 public:
  // Binds options.listen and starts the loop thread.
  static absl::StatusOr<std::unique_ptr<Simulator>> Start(SimulatorOptions options);
  ~Simulator();  // stops the loop thread, frees everything

  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:<port>/api/v1"

 private:
  Simulator() = default;

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_SIMULATOR_H_
