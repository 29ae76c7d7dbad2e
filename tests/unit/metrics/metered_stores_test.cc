#include "service/metrics/metered_stores.h"

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
  absl::Status DeleteTask(absl::string_view) override { return absl::OkStatus(); }
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

}  // namespace
}  // namespace qwenimage::metrics
