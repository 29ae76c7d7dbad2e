// Reads the simulator's /__stats counters over plain HTTP, for integration tests.
#ifndef QWENIMAGE_TESTS_TESTING_SIM_STATS_H_
#define QWENIMAGE_TESTS_TESTING_SIM_STATS_H_

#include <cstdint>
#include <string>

namespace qwenimage::testing {

struct SimStats {
  int64_t async_creates = 0;
  int64_t sync_generations = 0;
  int64_t throttled = 0;  // 429 replies
  int64_t task_gets = 0;
  int64_t cancels_ok = 0;
  int64_t peak_running_max = 0;  // over models
  int64_t edit_calls = 0;        // sync requests with image items
  int64_t input_images = 0;      // image items they carried
  std::string json;
  // Requests to `endpoint` answered with HTTP `status`.
  int64_t Requests(const std::string& endpoint, const std::string& status) const;
};

// `base_url` is the simulator's ".../api/v1" URL; the stats live at the host root.
SimStats FetchSimStats(const std::string& base_url);

// GETs `url` (any HTTP server, e.g. the gateway's /metrics); throws on transport failure.
std::string HttpGet(const std::string& url);

// POSTs to an admin path of the simulator (e.g. "/__reset").
void PostSimAdmin(const std::string& base_url, const std::string& path_and_query);

// GET /tasks?<query> (batch list) as `api_key` sees it; returns the JSON body.
std::string FetchSimTaskList(const std::string& base_url, const std::string& api_key,
                             const std::string& query);

// A create sent straight to the simulator, as another client of the same account (key) would.
struct SimCreateReply {
  long http_status = 0;
  std::string body;
  std::string task_id;  // output.task_id, "" if none
};
// POSTs an async image-synthesis create (model, prompt) as `api_key`; throws on transport failure.
SimCreateReply PostSimAsyncCreate(const std::string& base_url, const std::string& api_key,
                                  const std::string& model, const std::string& prompt);

// GET /tasks/{task_id} as `api_key` sees it; returns the JSON body.
std::string FetchSimTask(const std::string& base_url, const std::string& api_key,
                         const std::string& task_id);

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_SIM_STATS_H_
