// The TaskManager test fixture: real SQLite and directory stores in a temporary directory, a
// fake upstream answered by the test, a fake clock and a manual executor.
#ifndef QWENIMAGE_TESTS_UNIT_TASKS_TASK_MANAGER_FIXTURE_H_
#define QWENIMAGE_TESTS_UNIT_TASKS_TASK_MANAGER_FIXTURE_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/dashscope/errors.h"
#include "service/dashscope/failure.h"
#include "service/simulator/images.h"
#include "service/store/dir_image_store.h"
#include "service/store/sqlite_task_store.h"
#include "service/tasks/task_manager.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::tasks {

using dashscope::TaskStatus;

// A TaskStore whose writes fail while the test says so (a full disk, a locked database).
class FlakyTaskStore final : public store::TaskStore {
 public:
  void Reset(store::TaskStore* inner) { inner_ = inner; }
  // The next `n` Update calls fail with UNAVAILABLE and write nothing.
  void FailUpdates(int n) { fail_updates_ = n; }
  int failed_updates() const { return failed_updates_; }
  std::vector<store::Durability> durabilities;  // of every Update, in order

  absl::StatusOr<store::TaskRecord> InsertOrGet(const store::TaskRecord& r, bool* inserted) override {
    return inner_->InsertOrGet(r, inserted);
  }
  absl::StatusOr<store::TaskRecord> Get(absl::string_view id) override { return inner_->Get(id); }
  absl::Status Update(const store::TaskRecord& r, store::Durability d) override {
    durabilities.push_back(d);
    if (fail_updates_ > 0) {
      --fail_updates_;
      ++failed_updates_;
      return absl::UnavailableError("disk full");
    }
    return inner_->Update(r, d);
  }
  absl::StatusOr<std::string> FindByUpstreamId(absl::string_view id) override {
    return inner_->FindByUpstreamId(id);
  }
  absl::StatusOr<std::vector<store::TaskRecord>> List(const store::ListQuery& q) override {
    return inner_->List(q);
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListUnfinished() override {
    return inner_->ListUnfinished();
  }
  absl::StatusOr<std::vector<store::TaskRecord>> ListFinishedBefore(
      absl::Time cutoff, int limit, const std::optional<store::FinishedCursor>& after) override {
    return inner_->ListFinishedBefore(cutoff, limit, after);
  }
  absl::Status Delete(absl::string_view id) override { return inner_->Delete(id); }

 private:
  store::TaskStore* inner_ = nullptr;
  int fail_updates_ = 0;
  int failed_updates_ = 0;
};

// A real PNG: the manager decodes every image before it stores it.
inline std::string FakePng(int width, int height) { return simulator::RenderPng(width, height, 7); }

class RecordingWatcher : public TaskWatcher {
 public:
  void OnTaskUpdate(const v1::Task& task) override {
    absl::MutexLock lock(&mu_);
    states_.push_back(task.state());
    last_ = task;
  }
  std::vector<v1::TaskState> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  v1::Task last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::TaskState> states_;
  v1::Task last_;
};

class TaskManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tm_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenStores();
    options_.scheduler.default_limits = {2, 0};
    options_.queue_ahead = 0;  // the running limit alone; QueueAhead* tests turn it on
    options_.task_queries_per_second = 0;
    StartManager();
  }

  void OpenStores() {
    tasks_ = *store::SqliteTaskStore::Open(dir_ + "/tasks.db");
    flaky_.Reset(tasks_.get());
    images_ = *store::DirImageStore::Open(dir_ + "/images");
  }

  void StartManager() {
    manager_ = std::make_unique<TaskManager>(options_, dashscope::ModelCatalog::Default(),
                                             flaky_, *images_, upstream_, executor_, clock_);
    ASSERT_TRUE(manager_->Start().ok());
    executor_.RunUntilIdle();
  }

  // Closures still queued hold their tasks (and each task its strand): run them out after the
  // shutdown, as a real executor's stop does, so that nothing is left in a cycle.
  void TearDown() override {
    if (manager_ != nullptr) manager_->Shutdown();
    executor_.RunUntilIdle();
  }

  // Simulates a process restart: everything in memory is dropped, the files stay.
  void Restart() {
    manager_->Shutdown();
    executor_.RunUntilIdle();
    manager_.reset();
    upstream_.creates.clear();
    upstream_.gets.clear();
    upstream_.generates.clear();
    upstream_.downloads.clear();
    tasks_.reset();
    images_.reset();
    OpenStores();
    StartManager();
  }

  static dashscope::GenerationParams Params(const std::string& model, int n = 1) {
    dashscope::GenerationParams p;
    p.model = model;
    p.prompt = "a cat";
    p.size = model.find("2.0") != std::string::npos ? "1024*1024" : "1328*1328";
    p.n = n;
    return p;
  }

  v1::Task Create(const std::string& model, const std::string& request_id = "", int n = 1) {
    absl::StatusOr<v1::Task> t =
        manager_->Create("tenant", quotas_, request_id, Params(model, n));
    EXPECT_TRUE(t.ok()) << t.status();
    executor_.RunUntilIdle();
    return *t;
  }

  v1::Task Get(const std::string& id) { return *manager_->Get("tenant", id); }

  void AnswerCreate(const std::string& upstream_id) {
    ASSERT_FALSE(upstream_.creates.empty());
    auto call = testing::FakeUpstream::Pop(upstream_.creates);
    call.done(dashscope::CreatedTask{upstream_id, TaskStatus::kPending, "req-create"});
    executor_.RunUntilIdle();
  }

  void AnswerPoll(TaskStatus status, std::vector<std::string> urls = {}) {
    executor_.AdvanceBy(options_.max_poll_interval);
    ASSERT_FALSE(upstream_.gets.empty());
    auto call = testing::FakeUpstream::Pop(upstream_.gets);
    dashscope::UpstreamTask t;
    t.task_id = call.arg;
    t.status = status;
    t.request_id = "req-get-" + std::to_string(++polls_);
    for (const std::string& url : urls) t.images.push_back({url, "a cat", "a fluffy cat"});
    t.image_count = static_cast<int>(urls.size());
    call.done(t);
    executor_.RunUntilIdle();
  }

  void AnswerDownloads(int width, int height) {
    while (!upstream_.downloads.empty()) {
      auto call = testing::FakeUpstream::Pop(upstream_.downloads);
      call.done(FakePng(width, height));
      executor_.RunUntilIdle();
    }
  }

  int polls_ = 0;
  std::string dir_;
  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
  testing::FakeUpstream upstream_;
  std::unique_ptr<store::SqliteTaskStore> tasks_;
  FlakyTaskStore flaky_;  // what the manager writes through
  std::unique_ptr<store::DirImageStore> images_;
  TaskManagerOptions options_;
  TenantQuotas quotas_ = options_.tenant_defaults;  // the caller's, for Create()
  std::unique_ptr<TaskManager> manager_;
};

// The retry policy at submit and poll time, end to end through the manager.
class RetryPolicyTest : public TaskManagerTest {
 protected:
  static absl::Status Refusal(int http_status, const std::string& code,
                              std::optional<absl::Duration> retry_after = std::nullopt) {
    dashscope::UpstreamError e;
    dashscope::Classify(dashscope::CallKind::kBilled,
                        {dashscope::Answer::Shape::kDashScope, http_status, code}, e);
    e.http_status = http_status;
    e.code = code;
    e.request_id = "req-" + code;
    e.retry_after = retry_after;
    return dashscope::UpstreamErrorStatus(e);
  }
  void RefuseCreate(const absl::Status& status) {
    ASSERT_EQ(upstream_.creates.size(), 1u);
    testing::FakeUpstream::Pop(upstream_.creates).done(status);
    executor_.RunUntilIdle();
  }
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_TESTS_UNIT_TASKS_TASK_MANAGER_FIXTURE_H_
