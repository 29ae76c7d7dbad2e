// ListTasks in the tasks layer's terms: the filters and page a caller asked for, and the page
// of tasks with the token for the next one. Owns the mapping onto store queries and cursors, so
// the API layer never builds a store::ListQuery or encodes a store cursor.
#ifndef QWENIMAGE_SERVICE_TASKS_TASK_LISTING_H_
#define QWENIMAGE_SERVICE_TASKS_TASK_LISTING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "qwenimage/v1/task.pb.h"
#include "service/store/task_store.h"

namespace qwenimage::tasks {

struct ListRequest {
  std::string tenant;
  std::vector<v1::TaskState> states;  // empty = any
  std::string model;                  // "" = any
  std::optional<absl::Time> created_at_or_after;
  std::optional<absl::Time> created_before;
  int page_size = 50;      // > 0
  std::string page_token;  // "" = the first page
};

struct ListPage {
  std::vector<v1::Task> tasks;
  std::string next_page_token;  // "" on the last page
};

// The store query for `request`: one row more than the page, to tell whether another follows.
// A page token that is malformed or was issued for other filters is a FieldError on
// "page_token".
absl::StatusOr<store::ListQuery> ToStoreQuery(const ListRequest& request);

// The token of the page after `last` for the filters of `request`.
std::string NextPageToken(const ListRequest& request, const v1::Task& last);

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TASK_LISTING_H_
