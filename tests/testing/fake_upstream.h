// FakeUpstream: an Upstream whose calls wait until the test answers them, in any order.
#ifndef QWENIMAGE_TESTS_TESTING_FAKE_UPSTREAM_H_
#define QWENIMAGE_TESTS_TESTING_FAKE_UPSTREAM_H_

#include <deque>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "service/dashscope/upstream.h"

namespace qwenimage::testing {

class FakeUpstream final : public dashscope::Upstream {
 public:
  template <typename T>
  struct Call {
    std::string arg;  // task id, url or model
    dashscope::GenerationParams params;
    dashscope::UpstreamCallback<T> done;
  };

  void Generate(const dashscope::GenerationParams& params,
                dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override {
    absl::MutexLock lock(&mu_);
    generates.push_back({params.model, params, std::move(done)});
  }
  void CreateTask(const dashscope::GenerationParams& params,
                  dashscope::UpstreamCallback<dashscope::CreatedTask> done) override {
    absl::MutexLock lock(&mu_);
    creates.push_back({params.model, params, std::move(done)});
  }
  void GetTask(const std::string& task_id,
               dashscope::UpstreamCallback<dashscope::UpstreamTask> done) override {
    absl::MutexLock lock(&mu_);
    gets.push_back({task_id, {}, std::move(done)});
  }
  void ListTasks(const dashscope::TaskListQuery& query,
                 dashscope::UpstreamCallback<dashscope::TaskListPage> done) override {
    absl::MutexLock lock(&mu_);
    lists.push_back({query.model_name, {}, std::move(done)});
  }
  void CancelTask(const std::string& task_id,
                  dashscope::UpstreamCallback<std::string> done) override {
    absl::MutexLock lock(&mu_);
    cancels.push_back({task_id, {}, std::move(done)});
  }
  void Download(const std::string& url, dashscope::UpstreamCallback<std::string> done) override {
    absl::MutexLock lock(&mu_);
    downloads.push_back({url, {}, std::move(done)});
  }

  // Takes the oldest pending call of a kind (the test then answers it with call.done(...)).
  template <typename T>
  static Call<T> Pop(std::deque<Call<T>>& calls) {
    Call<T> c = std::move(calls.front());
    calls.pop_front();
    return c;
  }

  absl::Mutex mu_;
  std::deque<Call<dashscope::UpstreamTask>> generates;
  std::deque<Call<dashscope::CreatedTask>> creates;
  std::deque<Call<dashscope::UpstreamTask>> gets;
  std::deque<Call<dashscope::TaskListPage>> lists;
  std::deque<Call<std::string>> cancels;
  std::deque<Call<std::string>> downloads;
};

}  // namespace qwenimage::testing

#endif  // QWENIMAGE_TESTS_TESTING_FAKE_UPSTREAM_H_
