// Test helpers for TaskStore tests: records with a given id, tenant, time, state, request id and
// model, and the ids of a listing.
#ifndef QWENIMAGE_TESTS_UNIT_STORE_TASK_RECORDS_H_
#define QWENIMAGE_TESTS_UNIT_STORE_TASK_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/store/task_store.h"

namespace qwenimage::store {

inline google::protobuf::Timestamp Micros(int64_t us) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return ts;
}

inline TaskRecord MakeRecord(const std::string& id, const std::string& tenant, int64_t create_us,
                             qwenimage::v1::TaskState state = qwenimage::v1::TASK_STATE_QUEUED,
                             const std::string& request_id = "",
                             const std::string& model = "qwen-image") {
  TaskRecord r;
  r.tenant = tenant;
  r.fingerprint = absl::StrCat("fp-", id);
  r.task.set_id(id);
  r.task.set_state(state);
  r.task.set_request_id(request_id);
  r.task.mutable_spec()->set_model(model);
  r.task.mutable_spec()->set_prompt("a cat");
  *r.task.mutable_create_time() = Micros(create_us);
  return r;
}

inline std::vector<std::string> Ids(const std::vector<TaskRecord>& records) {
  std::vector<std::string> ids;
  for (const TaskRecord& r : records) ids.push_back(r.task.id());
  return ids;
}

}  // namespace qwenimage::store

#endif  // QWENIMAGE_TESTS_UNIT_STORE_TASK_RECORDS_H_
