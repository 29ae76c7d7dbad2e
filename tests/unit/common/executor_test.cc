#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/common/ids.h"
#include "service/common/serial_queue.h"
#include "service/common/thread_pool.h"

namespace qwenimage {
namespace {

TEST(ThreadPoolTest, RunsClosuresAndTimersInDeadlineOrder) {
  ThreadPool pool(1);
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  absl::Time now = absl::Now();
  pool.RunAt(now + absl::Milliseconds(30), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(3);
    done.Notify();
  });
  pool.RunAt(now + absl::Milliseconds(10), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(2);
  });
  pool.Run([&] {
    absl::MutexLock lock(&mu);
    order.push_back(1);
  });
  done.WaitForNotification();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(ThreadPoolTest, CancelledTimerNeverRuns) {
  std::atomic<bool> ran{false};
  {
    ThreadPool pool(2);
    Executor::TimerId id = pool.RunAt(absl::Now() + absl::Milliseconds(50), [&] { ran = true; });
    EXPECT_TRUE(pool.CancelTimer(id));
    EXPECT_FALSE(pool.CancelTimer(id));
    absl::Notification later;
    pool.RunAt(absl::Now() + absl::Milliseconds(100), [&] { later.Notify(); });
    later.WaitForNotification();
  }
  EXPECT_FALSE(ran);
}

TEST(SerialQueueTest, NeverOverlapsAndKeepsOrder) {
  ThreadPool pool(4);
  auto queue = std::make_shared<SerialQueue>(pool);
  absl::Mutex mu;
  std::vector<int> seen;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  absl::Notification done;
  constexpr int kN = 2000;
  for (int i = 0; i < kN; ++i) {
    queue->Post([&, i] {
      if (inside.fetch_add(1) != 0) overlapped = true;
      {
        absl::MutexLock lock(&mu);
        seen.push_back(i);
      }
      inside.fetch_sub(1);
      if (i == kN - 1) done.Notify();
    });
  }
  done.WaitForNotification();
  EXPECT_FALSE(overlapped);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), kN);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(seen[i], i);
}

TEST(IdsTest, TaskIdsAreUrlSafeAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewTaskId();
    ASSERT_EQ(id.size(), 26u);
    for (char c : id) ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10000u);
}

}  // namespace
}  // namespace qwenimage
