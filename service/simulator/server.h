// The simulator's HTTP front: libevent evhttp routing, auth, the DashScope endpoints, the image
// endpoint and the /__ admin endpoints. Runs entirely on the EventLoop thread.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_SERVER_H_
#define QWENIMAGE_SERVICE_SIMULATOR_SERVER_H_

#include <map>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/event_loop.h"
#include "service/simulator/faults.h"
#include "service/simulator/images.h"
#include "service/simulator/options.h"
#include "service/simulator/request.h"
#include "service/simulator/stats.h"
#include "service/simulator/task_engine.h"

struct evhttp;
struct evhttp_request;

namespace qwenimage::simulator {

class Server {
 public:
  Server(SimulatorOptions options, EventLoop* loop);
  ~Server();  // loop must be stopped
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds options.listen; call before the loop starts.
  absl::Status Listen();
  int port() const { return port_; }

 private:
  // One request being answered: where it goes, and what stats/headers it carries.
  struct Call {
    evhttp_request* req;
    std::string endpoint;  // stats name
    std::string request_id;
    absl::Time arrived;
  };
  struct Reply {
    int status = 200;
    std::string body;
    const char* content_type = "application/json";
    // A load balancer's own page ([sim:after=N]): none of DashScope's headers.
    bool from_gateway = false;
    std::optional<int64_t> retry_after = std::nullopt;  // seconds, for a Retry-After header
  };

  static void OnRequest(evhttp_request* req, void* self);
  void Route(evhttp_request* req);

  // Checks `Authorization: Bearer <key>` against the keys of this region; sets *key.
  bool Authorize(const Call& call, std::string* key);
  // An armed one-shot fault of `endpoint` if any (consuming one use), else a random draw.
  FaultPlan DrawFaults(const std::string& endpoint, bool create);
  const FaultRates* RatesFor(const std::string& endpoint) const;

  void HandleCreate(Call call, CreateEndpoint endpoint);
  void HandleTaskApi(Call call, absl::string_view task_id, absl::string_view query);
  void HandleImage(Call call, absl::string_view path, absl::string_view query);
  void HandleAdmin(evhttp_request* req, absl::string_view path, absl::string_view query);
  // POST /__faults/once: arms a one-shot fault from the query (see ParseOneShotFault).
  Reply ArmOneShotFault(const std::string& request_id, absl::string_view query);

  // Sends `reply` after `plan.delay`, applying the plan's delivery fault.
  void Send(const Call& call, Reply reply, const FaultPlan& plan = FaultPlan());
  void SendError(const Call& call, const ApiError& error, const FaultPlan& plan = FaultPlan());
  void Deliver(const Call& call, Reply reply, Delivery delivery);
  // The reply of a request whose work is done: `reply`, or the load balancer's HTML page when the
  // plan says the real reply never reaches the client ([sim:after=N]).
  static Reply Outcome(Reply reply, const FaultPlan& plan);
  static Reply ErrorReply(const Call& call, const ApiError& error);
  void AddKey(absl::string_view entry);

  SimulatorOptions options_;
  EventLoop* loop_;
  evhttp* http_;
  int port_ = 0;
  absl::BitGen rng_;
  Stats stats_;
  std::unique_ptr<ImageUrls> urls_;
  std::unique_ptr<TaskEngine> engine_;
  std::map<std::string, std::string> keys_;  // key → region
  std::vector<evhttp_request*> hung_;        // [sim:hang] requests, released at shutdown
  OneShotFaults one_shots_;                   // armed by POST /__faults/once
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_SERVER_H_
