// The batch list endpoint's query rules (reference §5.3): 24 h window defaults and bounds,
// filters by task_id / model_name / status, paging newest first.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_TASK_LIST_H_
#define QWENIMAGE_SERVICE_SIMULATOR_TASK_LIST_H_

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/simulator/errors.h"
#include "service/simulator/responses.h"
#include "service/simulator/task_engine.h"

namespace qwenimage::simulator {

// Selects and pages `tasks` per the raw query string. start_time/end_time are YYYYMMDDhhmmss in
// UTC+8; a window over 24 h, end before start, or bad paging is 400 InvalidParameter.
std::optional<ApiError> SelectListPage(std::vector<const Task*> tasks, absl::string_view query,
                                       absl::Time now, ListPage* page);

// Decodes %XX and '+' in a query component.
std::string QueryUnescape(absl::string_view text);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_TASK_LIST_H_
