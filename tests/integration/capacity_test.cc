// A burst from several tenants against the simulator's real account limits (2 running, 2
// submits/s, 20 task queries/s): the gateway queues it, upstream never answers 429, and every
// watcher sees its queue position count down.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
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
  // The burst visits the tenants in the same order every round, so the round-robin admission
  // order is the order of creation: a task queues behind exactly the tasks of the burst not yet
  // admitted. Its position at create therefore tells how many were admitted by then (itself
  // included when it got position 0, which needs the queue to have been empty).
  std::vector<std::pair<std::string, std::string>> tasks;  // tenant, id
  std::vector<int> created_at;                             // queue position CreateTask returned
  int admitted = 0;         // tasks of the burst admitted, as of the last create
  int64_t sent_before = 0;  // upstream creates seen just before the last create
  for (int i = 0; i < kTasksPerTenant; ++i) {
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = "tenant-" + std::to_string(t);
      const int k = static_cast<int>(tasks.size());
      v1::CreateTaskRequest req;
      *req.mutable_spec() = Spec("qwen-image-plus", "burst " + std::to_string(i));
      v1::Task task;
      grpc::Status s = stub_->CreateTask(Context(tenant).get(), req, &task);
      ASSERT_TRUE(s.ok()) << s.error_message();
      const int position = task.queue_position();
      if (k == 0) {
        // Nothing queued and no submit yet: admitted at once.
        EXPECT_EQ(position, 0);
      } else {
        // Never behind more than the burst so far; the first task is always admitted.
        EXPECT_GE(position, 0) << k;
        EXPECT_LE(position, k) << k;
      }
      const int admitted_now = position == 0 ? k + 1 : k + 1 - position;
      // Admissions are not undone, and a task is sent upstream only after its admission.
      EXPECT_GE(admitted_now, admitted) << "create " << k << " at position " << position;
      EXPECT_GE(admitted_now, sent_before) << "create " << k << " at position " << position;
      admitted = admitted_now;
      sent_before = FetchSimStats(gateway_->upstream_base_url()).async_creates;
      tasks.emplace_back(tenant, task.id());
      created_at.push_back(position);
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
    std::string seen;  // the positions this watcher saw, for failure messages
    for (const v1::Task& e : events[i]) {
      seen += std::to_string(e.state()) + "/" + std::to_string(e.queue_position()) + " ";
    }
    int last = 0;  // the last position seen while waiting in the queue
    bool admitted_seen = false;
    for (const v1::Task& e : events[i]) {
      if (e.state() != v1::TASK_STATE_QUEUED || e.queue_position() == 0) {
        // Position 0 while QUEUED: admitted, its create in flight. Nothing queues it again.
        EXPECT_EQ(e.queue_position(), 0) << seen;
        admitted_seen = true;
        continue;
      }
      EXPECT_FALSE(admitted_seen) << "queued again after admission: " << seen;
      // Never further back than at create, since nothing overtakes a queued task.
      EXPECT_LE(e.queue_position(), created_at[i]) << seen;
      // Admissions come one at a time at 2 submits/s and each moves every queued task one place
      // up: the position counts down by exactly one per event.
      if (last != 0) {
        EXPECT_EQ(e.queue_position(), last - 1) << seen;
      }
      last = e.queue_position();
    }
    // A task leaves the queue from its head.
    if (last != 0) {
      EXPECT_EQ(last, 1) << seen;
    }
  }
  SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.throttled, 0) << stats.json;
  EXPECT_LE(stats.peak_running_max, 2) << stats.json;
  EXPECT_EQ(stats.async_creates, kTenants * kTasksPerTenant) << stats.json;
}

// An account whose upstream refuses async tasks over the running limit (429
// Throttling.Concurrency) instead of queueing them. Its tasks stay PENDING until cancelled (an
// hour-long pending delay), so the account's two slots stay taken for as long as the test wants:
// the task the gateway submits ahead of a free slot is refused, exactly once whatever the timing,
// goes back to the head of the queue, and from then on the gateway stays within the limit.
class CapacityRejectingUpstreamTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.simulator.limits = true;
    options_.simulator.async_over_limit = simulator::OverLimit::kReject;
    options_.simulator.pending_delay = absl::Hours(1);
    // Only the running limit refuses: no submit rate, no task-query rate.
    options_.simulator.submit_rate.clear();
    options_.simulator.task_api_qps = 0;
    options_.tasks.scheduler.default_limits = {2, 0};  // submit at once, up to the limit
    options_.tasks.queue_ahead = 1;
    StartGateway();
  }

  v1::Task Get(const std::string& id) {
    v1::GetTaskRequest req;
    req.set_task_id(id);
    v1::Task task;
    grpc::Status s = stub_->GetTask(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  v1::Task Cancel(const std::string& id) {
    v1::CancelTaskRequest req;
    req.set_task_id(id);
    v1::Task task;
    grpc::Status s = stub_->CancelTask(Context().get(), req, &task);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return task;
  }

  // Polls `done` until it holds; false after 30 s.
  template <typename Predicate>
  static bool WaitFor(Predicate done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

  SimStats Stats() { return FetchSimStats(gateway_->upstream_base_url()); }
};

TEST_F(CapacityRejectingUpstreamTest, OneRefusalTurnsQueueAheadOff) {
  // Three at once: two take the account's slots and stay PENDING; the third, sent ahead of a
  // free slot, is refused and goes back to the head of the queue.
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Create(Spec("qwen-image-plus", "refused " + std::to_string(i))).id());
  }
  std::vector<std::string> holding;
  std::string refused;
  ASSERT_TRUE(WaitFor([&] {
    SimStats stats = Stats();
    if (stats.async_creates != 2 || stats.throttled != 1) return false;
    holding.clear();
    refused.clear();
    for (const std::string& id : ids) {
      v1::Task task = Get(id);
      if (!task.upstream_task_id().empty()) {
        holding.push_back(id);
      } else if (task.state() == v1::TASK_STATE_QUEUED && task.queue_position() == 1) {
        refused = id;
      }
    }
    return holding.size() == 2 && !refused.empty();
  })) << Stats().json;

  // Both slots taken: a new task waits behind the refused one.
  v1::Task waiting = Create(Spec("qwen-image-plus", "waits"));
  EXPECT_EQ(waiting.state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(waiting.queue_position(), 2);

  // One slot freed (an upstream cancel of a PENDING task) admits exactly one task, the refused
  // one, and upstream takes it. Submitting ahead would have admitted the waiting task in the same
  // step, and upstream would have refused it.
  EXPECT_EQ(Cancel(holding[0]).state(), v1::TASK_STATE_CANCELLED);
  ASSERT_TRUE(WaitFor([&] {
    return !Get(refused).upstream_task_id().empty() && Stats().async_creates == 3;
  })) << Stats().json;
  v1::Task still = Get(waiting.id());
  EXPECT_EQ(still.state(), v1::TASK_STATE_QUEUED);
  EXPECT_EQ(still.queue_position(), 1);
  EXPECT_TRUE(still.upstream_task_id().empty());

  for (const std::string& id : {waiting.id(), holding[1], refused}) {
    EXPECT_EQ(Cancel(id).state(), v1::TASK_STATE_CANCELLED) << id;
  }
  SimStats stats = Stats();
  EXPECT_EQ(stats.throttled, 1) << stats.json;
  EXPECT_EQ(stats.Requests("image-synthesis", "429"), 1) << stats.json;
  EXPECT_EQ(stats.async_creates, 3) << stats.json;
  EXPECT_EQ(stats.cancels_ok, 3) << stats.json;
}

}  // namespace
}  // namespace qwenimage::testing
