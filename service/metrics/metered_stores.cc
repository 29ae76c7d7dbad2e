#include "service/metrics/metered_stores.h"

#include <utility>

#include "absl/time/clock.h"

namespace qwenimage::metrics {
namespace {

// Runs `op` and records its latency under {store, op}.
template <typename F>
auto Timed(Metrics& metrics, const char* store, const char* op, F&& fn) {
  const absl::Time start = absl::Now();
  auto result = std::forward<F>(fn)();
  metrics.store_operation_seconds.Add({{"store", store}, {"op", op}}, Metrics::FastBuckets())
      .Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return result;
}

}  // namespace

absl::StatusOr<store::TaskRecord> MeteredTaskStore::InsertOrGet(const store::TaskRecord& record,
                                                                bool* inserted) {
  return Timed(metrics_, "task", "insert", [&] { return inner_.InsertOrGet(record, inserted); });
}

absl::StatusOr<store::TaskRecord> MeteredTaskStore::Get(absl::string_view task_id) {
  return Timed(metrics_, "task", "get", [&] { return inner_.Get(task_id); });
}

absl::Status MeteredTaskStore::Update(const store::TaskRecord& record,
                                      store::Durability durability) {
  return Timed(metrics_, "task", "update", [&] { return inner_.Update(record, durability); });
}

absl::StatusOr<std::string> MeteredTaskStore::FindByUpstreamId(absl::string_view upstream_task_id) {
  return Timed(metrics_, "task", "find_by_upstream_id",
               [&] { return inner_.FindByUpstreamId(upstream_task_id); });
}

absl::StatusOr<std::vector<store::TaskRecord>> MeteredTaskStore::List(
    const store::ListQuery& query) {
  return Timed(metrics_, "task", "list", [&] { return inner_.List(query); });
}

absl::StatusOr<std::vector<store::TaskRecord>> MeteredTaskStore::ListUnfinished() {
  return Timed(metrics_, "task", "list_unfinished", [&] { return inner_.ListUnfinished(); });
}

absl::StatusOr<std::vector<store::TaskRecord>> MeteredTaskStore::ListFinishedBefore(
    absl::Time cutoff, int limit, const std::optional<store::FinishedCursor>& after) {
  return Timed(metrics_, "task", "list_finished",
               [&] { return inner_.ListFinishedBefore(cutoff, limit, after); });
}


absl::Status MeteredTaskStore::Delete(absl::string_view task_id) {
  return Timed(metrics_, "task", "delete", [&] { return inner_.Delete(task_id); });
}

absl::Status MeteredImageStore::Put(absl::string_view task_id, int index, absl::string_view bytes) {
  absl::Status status =
      Timed(metrics_, "image", "put", [&] { return inner_.Put(task_id, index, bytes); });
  if (status.ok()) {
    metrics_.images_stored.Add({}).Increment();
    metrics_.image_bytes_stored.Add({}).Increment(static_cast<double>(bytes.size()));
  }
  return status;
}

absl::StatusOr<std::string> MeteredImageStore::Get(absl::string_view task_id, int index) {
  return Timed(metrics_, "image", "get", [&] { return inner_.Get(task_id, index); });
}

absl::StatusOr<std::unique_ptr<store::ImageReader>> MeteredImageStore::Open(
    absl::string_view task_id, int index) {
  return Timed(metrics_, "image", "open", [&] { return inner_.Open(task_id, index); });
}

absl::Status MeteredImageStore::DeleteTask(absl::string_view task_id) {
  return Timed(metrics_, "image", "delete", [&] { return inner_.DeleteTask(task_id); });
}

absl::StatusOr<std::vector<std::string>> MeteredImageStore::ListTaskIds() {
  return Timed(metrics_, "image", "list_task_ids", [&] { return inner_.ListTaskIds(); });
}

}  // namespace qwenimage::metrics
