#include "service/api/stream_registry.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace qwenimage::api {
namespace {

class Call final : public Drainable {
 public:
  void Drain(const std::string& reason) override { reasons.push_back(reason); }
  std::vector<std::string> reasons;
};

TEST(StreamRegistryTest, StreamsAreCappedPerTenant) {
  StreamRegistry registry(/*max_streams_per_tenant=*/2);
  auto a1 = std::make_shared<Call>(), a2 = std::make_shared<Call>(), a3 = std::make_shared<Call>();
  auto b1 = std::make_shared<Call>();
  EXPECT_TRUE(registry.AddStream(a1, "a").ok());
  EXPECT_TRUE(registry.AddStream(a2, "a").ok());
  EXPECT_EQ(registry.AddStream(a3, "a").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(registry.AddStream(b1, "b").ok());
  EXPECT_EQ(registry.StreamsOf("a"), 2);
  EXPECT_EQ(registry.size(), 3u);

  registry.Remove(a1);
  EXPECT_EQ(registry.StreamsOf("a"), 1);
  EXPECT_TRUE(registry.AddStream(a3, "a").ok());
  registry.Remove(a3);
  registry.Remove(a3);  // twice: counted once
  registry.Remove(std::make_shared<Call>());  // never added
  EXPECT_EQ(registry.StreamsOf("a"), 1);
}

TEST(StreamRegistryTest, PlainCallsAreNotCountedAgainstATenant) {
  StreamRegistry registry(/*max_streams_per_tenant=*/1);
  auto waiting = std::make_shared<Call>(), stream = std::make_shared<Call>();
  EXPECT_TRUE(registry.Add(waiting));
  EXPECT_TRUE(registry.AddStream(stream, "a").ok());
  registry.Remove(waiting);
  EXPECT_EQ(registry.StreamsOf("a"), 1);
  registry.Remove(stream);
  EXPECT_EQ(registry.StreamsOf("a"), 0);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(StreamRegistryTest, ZeroMeansNoCap) {
  StreamRegistry registry;
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(std::make_shared<Call>());
    ASSERT_TRUE(registry.AddStream(calls.back(), "a").ok());
  }
  EXPECT_EQ(registry.StreamsOf("a"), 1000);
}

TEST(StreamRegistryTest, DrainingRefusesAndDrainsEveryCall) {
  StreamRegistry registry(1);
  auto open = std::make_shared<Call>(), waiting = std::make_shared<Call>();
  ASSERT_TRUE(registry.AddStream(open, "a").ok());
  ASSERT_TRUE(registry.Add(waiting));
  registry.DrainAll("bye");
  EXPECT_EQ(open->reasons, std::vector<std::string>{"bye"});
  EXPECT_EQ(waiting->reasons, std::vector<std::string>{"bye"});
  EXPECT_EQ(registry.AddStream(std::make_shared<Call>(), "b").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(registry.Add(std::make_shared<Call>()));
}

}  // namespace
}  // namespace qwenimage::api
