// Simulator lifecycle: loop + server construction, start, and orderly shutdown.
#include "service/simulator/simulator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/simulator/event_loop.h"
#include "service/simulator/server.h"

namespace qwenimage::simulator {

absl::StatusOr<std::unique_ptr<Simulator>> Simulator::Start(SimulatorOptions options) {
  std::unique_ptr<Simulator> sim(new Simulator());
  sim->loop_ = std::make_unique<EventLoop>();
  sim->server_ = std::make_unique<Server>(std::move(options), sim->loop_.get());
  if (absl::Status s = sim->server_->Listen(); !s.ok()) return s;
  sim->port_ = sim->server_->port();
  sim->loop_->Start();
  return sim;
}

Simulator::~Simulator() {
  if (loop_) loop_->Stop();
  server_.reset();  // frees connections while the event_base still exists
  loop_.reset();
}

std::string Simulator::base_url() const { return absl::StrCat("http://127.0.0.1:", port_, "/api/v1"); }

}  // namespace qwenimage::simulator
