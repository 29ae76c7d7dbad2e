// A burst from several tenants against the simulator's real account limits (2 running, 2
// submits/s, 20 task queries/s): the gateway queues it, upstream never answers 429, and every
// watcher sees its queue position count down.
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

constexpr int kTenants = 4;
constexpr int kTasksPerTenant = 4;

class CapacityTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.simulator.limits = true;  // the simulator's defaults are DashScope's limits
    options_.simulator.task_duration = {absl::Milliseconds(150), absl::Milliseconds(150)};
    options_.tasks.scheduler.default_limits = {2, 2};
    StartGateway();
  }
};

TEST_F(CapacityTest, BurstDrawsNo429AndQueuePositionsCountDown) {
  std::vector<std::pair<std::string, std::string>> tasks;  // tenant, id
  for (int i = 0; i < kTasksPerTenant; ++i) {
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = "tenant-" + std::to_string(t);
      v1::CreateTaskRequest req;
      *req.mutable_spec() = Spec("qwen-image-plus", "burst " + std::to_string(i));
      v1::Task task;
      grpc::Status s = stub_->CreateTask(Context(tenant).get(), req, &task);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_LE(task.queue_position(), static_cast<int>(tasks.size()) + 1);
      tasks.emplace_back(tenant, task.id());
    }
  }
  std::vector<std::vector<v1::Task>> events(tasks.size());
  std::vector<std::thread> watchers;
  for (size_t i = 0; i < tasks.size(); ++i) {
    watchers.emplace_back([&, i] {
      v1::WatchTaskRequest req;
      req.set_task_id(tasks[i].second);
      auto ctx = Context(tasks[i].first);
      auto reader = stub_->WatchTask(ctx.get(), req);
      v1::TaskEvent event;
      while (reader->Read(&event)) {
        if (event.has_task()) events[i].push_back(event.task());
      }
      EXPECT_TRUE(reader->Finish().ok());
    });
  }
  for (std::thread& t : watchers) t.join();

  for (size_t i = 0; i < tasks.size(); ++i) {
    ASSERT_FALSE(events[i].empty());
    EXPECT_EQ(events[i].back().state(), v1::TASK_STATE_SUCCEEDED) << tasks[i].second;
    int last = INT32_MAX;
    for (const v1::Task& e : events[i]) {
      // Position 0 while QUEUED: admitted, its create in flight.
      if (e.state() != v1::TASK_STATE_QUEUED || e.queue_position() == 0) {
        EXPECT_EQ(e.queue_position(), 0);
        continue;
      }
      // Positions only move forward, and a task leaves the queue from its head: admissions
      // come one at a time at 2 submits/s.
      EXPECT_GE(e.queue_position(), 1);
      EXPECT_LE(e.queue_position(), last) << tasks[i].second;
      last = e.queue_position();
    }
    if (last != INT32_MAX) {
      EXPECT_EQ(last, 1) << tasks[i].second;
    }
  }
  SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.throttled, 0) << stats.json;
  EXPECT_LE(stats.peak_running_max, 2) << stats.json;
  EXPECT_EQ(stats.async_creates, kTenants * kTasksPerTenant) << stats.json;
}

// An account whose upstream refuses async tasks over the running limit (429
// Throttling.Concurrency) instead of queueing them: the one task the gateway submitted ahead is
// refused once, goes back to the queue, and the gateway stays within the limit from then on.
class CapacityRejectingUpstreamTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.simulator.limits = true;
    options_.simulator.async_over_limit = simulator::OverLimit::kReject;
    // Longer than two submit intervals: the third submit finds two running.
    options_.simulator.task_duration = {absl::Milliseconds(1200), absl::Milliseconds(1200)};
    options_.tasks.scheduler.default_limits = {2, 2};
    options_.tasks.queue_ahead = 1;
    StartGateway();
  }
};

TEST_F(CapacityRejectingUpstreamTest, OneRefusalTurnsQueueAheadOff) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Create(Spec("qwen-image-plus", "refused " + std::to_string(i))).id());
  }
  for (const std::string& id : ids) {
    std::vector<v1::Task> events = WatchToEnd(id);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().state(), v1::TASK_STATE_SUCCEEDED) << id;
  }
  SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.throttled, 1) << stats.json;
  EXPECT_EQ(stats.async_creates, 5) << stats.json;
  EXPECT_EQ(stats.peak_running_max, 2) << stats.json;
}

}  // namespace
}  // namespace qwenimage::testing
