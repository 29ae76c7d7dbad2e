#include "service/metrics/metered_stores.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/metrics_text.h"

namespace qwenimage::metrics {
namespace {

using ::qwenimage::testing::MetricsText;
using ::qwenimage::testing::SampleValue;

class MemoryImageStore final : public store::ImageStore {
 public:
  absl::Status Put(absl::string_view, int, absl::string_view bytes) override {
    if (bytes.empty()) return absl::InvalidArgumentError("empty");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Get(absl::string_view, int) override {
    return absl::NotFoundError("none");
  }
  absl::StatusOr<std::unique_ptr<store::ImageReader>> Open(absl::string_view, int) override {
    return absl::NotFoundError("none");
  }
  absl::Status DeleteTask(absl::string_view) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> ListTaskIds() override {
    return std::vector<std::string>{"t"};
  }
};

// Records what reaches it, to check the decorator forwards every argument.
class RecordingTaskStore final : public store::TaskStore {
 public:
  absl::StatusOr<store::TaskRecord> InsertOrGet(const store::TaskRecord& record, bool*) override {
    return record;
  }
  absl::StatusOr<store::TaskRecord> Get(absl::string_view) override {
    return absl::NotFoundError("none");
  }
  absl::Status Update(const store::TaskRecord&, store::Durability durability) override {
    durabilities.push_back(durability);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> FindByUpstreamId(absl::string_view upstream_task_id) override {
    if (upstream_task_id == "up-1") return std::string("t1");
    return absl::NotFoundError("none");
  }
  absl::StatusOr<std::vector<store::TaskRecord>> List(const store::ListQuery&) override {
    return std::vector<store::TaskRecord>{};
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListUnfinished() override {
    return std::vector<store::TaskRecord>{};
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<store::FinishedCursor>& after) override {
    finished_queries.push_back({cutoff, limit, after ? after->id : ""});
    return std::vector<store::TaskRecord>{};
  }
  absl::Status Delete(absl::string_view) override { return absl::OkStatus(); }

  struct FinishedQuery {
    absl::Time cutoff;
    int limit;
    std::string after_id;
  };
  std::vector<store::Durability> durabilities;
  std::vector<FinishedQuery> finished_queries;
};

TEST(MeteredImageStoreTest, CountsStoredImagesAndBytesAndTimesEveryOperation) {
  Metrics metrics;
  MemoryImageStore inner;
  MeteredImageStore images(inner, metrics);
  ASSERT_TRUE(images.Put("t", 0, "12345").ok());
  ASSERT_FALSE(images.Put("t", 1, "").ok());  // failed writes are not counted
  EXPECT_TRUE(absl::IsNotFound(images.Get("t", 0).status()));
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(SampleValue(text, "qwenimage_images_stored_total"), 1);
  EXPECT_EQ(SampleValue(text, "qwenimage_image_stored_bytes_total"), 5);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_store_operation_seconds_count{op="put",store="image"})"),
            2);
  EXPECT_EQ(SampleValue(text, R"(qwenimage_store_operation_seconds_count{op="get",store="image"})"),
            1);
}

TEST(MeteredImageStoreTest, ListTaskIdsPassesThroughAndIsTimed) {
  Metrics metrics;
  MemoryImageStore inner;
  MeteredImageStore images(inner, metrics);
  absl::StatusOr<std::vector<std::string>> ids = images.ListTaskIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, std::vector<std::string>{"t"});
  EXPECT_EQ(
      SampleValue(MetricsText(*metrics.registry()),
                  R"(qwenimage_store_operation_seconds_count{op="list_task_ids",store="image"})"),
      1);
}

TEST(MeteredTaskStoreTest, ForwardsListFinishedBeforeAndTimesIt) {
  Metrics metrics;
  RecordingTaskStore inner;
  MeteredTaskStore tasks(inner, metrics);
  const absl::Time cutoff = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(tasks.ListFinishedBefore(cutoff, 7, std::nullopt).ok());
  ASSERT_TRUE(
      tasks.ListFinishedBefore(cutoff, 3, store::FinishedCursor{absl::FromUnixSeconds(5), "t9"})
          .ok());
  ASSERT_EQ(inner.finished_queries.size(), 2u);
  EXPECT_EQ(inner.finished_queries[0].cutoff, cutoff);
  EXPECT_EQ(inner.finished_queries[0].limit, 7);
  EXPECT_EQ(inner.finished_queries[0].after_id, "");
  EXPECT_EQ(inner.finished_queries[1].limit, 3);
  EXPECT_EQ(inner.finished_queries[1].after_id, "t9");
  EXPECT_EQ(SampleValue(MetricsText(*metrics.registry()),
                        R"(qwenimage_store_operation_seconds_count{op="list_finished",store="task"})"),
            2);
}

TEST(MeteredTaskStoreTest, ForwardsDurabilityAndUpstreamLookups) {
  Metrics metrics;
  RecordingTaskStore inner;
  MeteredTaskStore tasks(inner, metrics);
  store::TaskRecord record;
  ASSERT_TRUE(tasks.Update(record, store::Durability::kRelaxed).ok());
  ASSERT_TRUE(tasks.Update(record, store::Durability::kSynced).ok());
  ASSERT_TRUE(tasks.Update(record).ok());
  EXPECT_EQ(inner.durabilities,
            (std::vector<store::Durability>{store::Durability::kRelaxed, store::Durability::kSynced,
                                            store::Durability::kSynced}));
  EXPECT_EQ(*tasks.FindByUpstreamId("up-1"), "t1");
  EXPECT_TRUE(absl::IsNotFound(tasks.FindByUpstreamId("up-2").status()));
  std::string text = MetricsText(*metrics.registry());
  EXPECT_EQ(
      SampleValue(text, R"(qwenimage_store_operation_seconds_count{op="update",store="task"})"), 3);
  EXPECT_EQ(
      SampleValue(
          text,
          R"(qwenimage_store_operation_seconds_count{op="find_by_upstream_id",store="task"})"),
      2);
}

}  // namespace
}  // namespace qwenimage::metrics
