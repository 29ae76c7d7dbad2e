#include "service/metrics/grpc_metrics_interceptor.h"

#include "gtest/gtest.h"

namespace qwenimage::metrics {
namespace {

TEST(MethodLabelTest, KeepsKnownServicesAndFoldsTheRest) {
  EXPECT_EQ(MethodLabel("/qwenimage.v1.ImageService/WatchTask"),
            "/qwenimage.v1.ImageService/WatchTask");
  EXPECT_EQ(MethodLabel("/grpc.health.v1.Health/Check"), "/grpc.health.v1.Health/Check");
  EXPECT_EQ(MethodLabel("/attacker.Made/Up123"), "other");
}

}  // namespace
}  // namespace qwenimage::metrics
