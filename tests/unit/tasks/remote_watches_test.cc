// RemoteWatches on a real SQLite store, a fake clock and a manual executor: the rows change as
// another replica's writes would change them, and the test plays the change feed (OnChanged).
#include "service/tasks/remote_watches.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/ids.h"
#include "service/store/sqlite_task_store.h"
#include "service/tasks/convert.h"
#include "tests/testing/manual_executor.h"
#include "tests/unit/tasks/task_manager_fixture.h"

namespace qwenimage::tasks {
namespace {

using ::testing::ElementsAre;

constexpr absl::Duration kRefresh = absl::Seconds(2);

class RemoteWatchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/rw_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    tasks_ = *store::SqliteTaskStore::Open(dir_ + "/tasks.db");
    watches_ = std::make_unique<RemoteWatches>(*tasks_, executor_, clock_, kRefresh,
                                               [](v1::Task task) { return task; });
    watches_->Start();
  }

  void TearDown() override {
    watches_->Stop();
    executor_.RunUntilIdle();
  }

  // A QUEUED task in the store; returns its stored state.
  v1::Task Insert() {
    store::TaskRecord r;
    r.tenant = "tenant";
    r.task.set_id(NewTaskId());
    r.task.set_state(v1::TASK_STATE_QUEUED);
    r.task.mutable_spec()->set_model("qwen-image-plus");
    ToProto(clock_.Now(), r.task.mutable_create_time());
    ToProto(clock_.Now(), r.task.mutable_update_time());
    bool inserted = false;
    EXPECT_TRUE(tasks_->InsertOrGet(r, &inserted).ok());
    return tasks_->Get(r.task.id())->task;
  }

  // Another replica's write of `state` (not announced: the test calls OnChanged for that).
  void Write(const std::string& id, v1::TaskState state) {
    store::TaskRecord r = *tasks_->Get(id);
    r.task.set_state(state);
    ToProto(clock_.Now(), r.task.mutable_update_time());
    ASSERT_TRUE(tasks_->Update(r, store::Durability::kSynced).ok());
  }

  void WriteAndAnnounce(const std::string& id, v1::TaskState state) {
    Write(id, state);
    watches_->OnChanged(id);
    executor_.RunUntilIdle();
  }

  std::shared_ptr<RecordingWatcher> Watch(uint64_t token, const v1::Task& snapshot) {
    auto w = std::make_shared<RecordingWatcher>();
    watches_->Add(token, snapshot, w);
    executor_.RunUntilIdle();
    return w;
  }

  std::string dir_;
  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
  std::unique_ptr<store::SqliteTaskStore> tasks_;
  std::unique_ptr<RemoteWatches> watches_;
};

TEST_F(RemoteWatchesTest, AWatcherGetsTheSnapshotThenEachStoredChangeThenTheEnd) {
  v1::Task task = Insert();
  auto w = Watch(1, task);
  EXPECT_THAT(w->states(), ElementsAre(v1::TASK_STATE_QUEUED));
  WriteAndAnnounce(task.id(), v1::TASK_STATE_PENDING);
  WriteAndAnnounce(task.id(), v1::TASK_STATE_RUNNING);
  WriteAndAnnounce(task.id(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_THAT(w->states(), ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_PENDING,
                                       v1::TASK_STATE_RUNNING, v1::TASK_STATE_SUCCEEDED));
  EXPECT_EQ(watches_->WatchedTasks(), 0);  // the end closes the watch
  watches_->OnChanged(task.id());
  executor_.AdvanceBy(kRefresh * 2);
  EXPECT_EQ(w->states().size(), 4u);
}

TEST_F(RemoteWatchesTest, AMissedNotificationIsCaughtUpByTheRefresh) {
  v1::Task task = Insert();
  auto w = Watch(1, task);
  Write(task.id(), v1::TASK_STATE_RUNNING);  // its notification never came
  executor_.RunUntilIdle();
  EXPECT_THAT(w->states(), ElementsAre(v1::TASK_STATE_QUEUED));
  executor_.AdvanceBy(kRefresh);
  EXPECT_THAT(w->states(), ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_RUNNING));
}

TEST_F(RemoteWatchesTest, TwoWatchersSeeTheSameEvents) {
  v1::Task queued = Insert();
  auto first = Watch(1, queued);
  WriteAndAnnounce(queued.id(), v1::TASK_STATE_RUNNING);
  // The second one's caller read the row before that change: its snapshot is stale.
  auto second = Watch(2, queued);
  EXPECT_THAT(second->states(), ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_RUNNING));
  WriteAndAnnounce(queued.id(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_THAT(first->states(),
              ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_RUNNING, v1::TASK_STATE_SUCCEEDED));
  EXPECT_EQ(second->states(), first->states());
}

TEST_F(RemoteWatchesTest, NoEventForAnUnchangedRow) {
  v1::Task task = Insert();
  auto w = Watch(1, task);
  watches_->OnChanged(task.id());
  watches_->OnChanged("");
  executor_.RunUntilIdle();
  executor_.AdvanceBy(kRefresh * 3);
  EXPECT_THAT(w->states(), ElementsAre(v1::TASK_STATE_QUEUED));
}

TEST_F(RemoteWatchesTest, RemovedWatcherGetsNothingMore) {
  v1::Task task = Insert();
  auto removed = Watch(1, task);
  auto kept = Watch(2, task);
  watches_->Remove(task.id(), 1);
  WriteAndAnnounce(task.id(), v1::TASK_STATE_RUNNING);
  WriteAndAnnounce(task.id(), v1::TASK_STATE_SUCCEEDED);
  EXPECT_THAT(removed->states(), ElementsAre(v1::TASK_STATE_QUEUED));
  EXPECT_THAT(kept->states(),
              ElementsAre(v1::TASK_STATE_QUEUED, v1::TASK_STATE_RUNNING, v1::TASK_STATE_SUCCEEDED));
}

}  // namespace
}  // namespace qwenimage::tasks
