// JSON bodies of the simulator's replies, field for field as in the DashScope reference (§4, §5):
// errors, sync generation results, async create, task query, batch list, cancel.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_RESPONSES_H_
#define QWENIMAGE_SERVICE_SIMULATOR_RESPONSES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/errors.h"
#include "service/simulator/task_engine.h"

namespace qwenimage::simulator {

// "YYYY-MM-DD HH:MM:SS.mmm" in UTC+8, the zone of the real service's task times.
std::string FormatTaskTime(absl::Time t);
// What prompt_extend "rewrites" a prompt to (deterministic).
std::string ExtendedPrompt(absl::string_view prompt);

std::string ErrorBody(absl::string_view request_id, const ApiError& error);
// The HTML error page an nginx load balancer in front of DashScope answers with, e.g. "502 Bad
// Gateway" ([sim:after=N]): deliberately not DashScope's JSON, so no `code` proves no work was done.
std::string GatewayErrorBody(int http_status);
std::string RequestIdBody(absl::string_view request_id);  // cancel success
std::string SyncResultBody(absl::string_view request_id, const Task& task);
std::string AsyncCreateBody(absl::string_view request_id, const Task& task);
// `task` nullptr renders UNKNOWN for `task_id`.
std::string TaskBody(absl::string_view request_id, absl::string_view task_id, const Task* task);

struct ListPage {
  int64_t total = 0;
  int page_no = 1;
  int page_size = 10;
  std::vector<const Task*> data;
};
// `region_id` is "ap-southeast-1" or "cn-beijing".
std::string ListBody(absl::string_view request_id, const ListPage& page,
                     absl::string_view region_id);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_RESPONSES_H_
