// MeteredTaskStore and MeteredImageStore: store decorators that time every operation and count
// the images and bytes written.
#ifndef QWENIMAGE_SERVICE_METRICS_METERED_STORES_H_
#define QWENIMAGE_SERVICE_METRICS_METERED_STORES_H_

#include <optional>
#include <string>
#include <vector>

#include "service/metrics/metrics.h"
#include "service/store/image_store.h"
#include "service/store/task_store.h"

namespace qwenimage::metrics {

class MeteredTaskStore final : public store::TaskStore {
 public:
  // `inner` and `metrics` must outlive this object.
  MeteredTaskStore(store::TaskStore& inner, Metrics& metrics) : inner_(inner), metrics_(metrics) {}

  absl::StatusOr<store::TaskRecord> InsertOrGet(const store::TaskRecord& record,
                                                bool* inserted) override;
  absl::StatusOr<store::TaskRecord> Get(absl::string_view task_id) override;
  absl::Status Update(const store::TaskRecord& record,
                      store::Durability durability = store::Durability::kSynced) override;
  absl::StatusOr<std::string> FindByUpstreamId(absl::string_view upstream_task_id) override;
  absl::StatusOr<std::vector<store::TaskRecord>> List(const store::ListQuery& query) override;
  absl::StatusOr<std::vector<store::TaskRecord>> ListUnfinished() override;
  absl::StatusOr<std::vector<store::TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<store::FinishedCursor>& after) override;
  absl::Status Delete(absl::string_view task_id) override;

 private:
  store::TaskStore& inner_;
  Metrics& metrics_;
};

class MeteredImageStore final : public store::ImageStore {
 public:
  MeteredImageStore(store::ImageStore& inner, Metrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  absl::Status Put(absl::string_view task_id, int index, absl::string_view bytes) override;
  absl::StatusOr<std::string> Get(absl::string_view task_id, int index) override;
  absl::StatusOr<std::unique_ptr<store::ImageReader>> Open(absl::string_view task_id,
                                                           int index) override;
  absl::Status DeleteTask(absl::string_view task_id) override;
  absl::StatusOr<std::vector<std::string>> ListTaskIds() override;

 private:
  store::ImageStore& inner_;
  Metrics& metrics_;
};

}  // namespace qwenimage::metrics

#endif  // QWENIMAGE_SERVICE_METRICS_METERED_STORES_H_
