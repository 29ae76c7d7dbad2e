// Upstream: the DashScope operations the task layer needs. DashScopeClient implements it over
// HTTP; tests use fakes.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "service/dashscope/types.h"

namespace qwenimage::dashscope {

// Every callback runs exactly once, never inline, on an I/O thread: it must not block. A failed
// call's status carries an UpstreamError (errors.h: GetUpstreamError).
template <typename T>
using UpstreamCallback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

class Upstream {
 public:
  virtual ~Upstream() = default;

  // Sync endpoint (multimodal-generation): one call that returns the images.
  virtual void Generate(const GenerationParams& params,
                        UpstreamCallback<UpstreamTask> done) = 0;
  // Async create (text2image/image-synthesis with X-DashScope-Async: enable).
  virtual void CreateTask(const GenerationParams& params,
                          UpstreamCallback<CreatedTask> done) = 0;
  // GET /tasks/{id}.
  virtual void GetTask(const std::string& task_id, UpstreamCallback<UpstreamTask> done) = 0;
  // GET /tasks?... (batch list).
  virtual void ListTasks(const TaskListQuery& query, UpstreamCallback<TaskListPage> done) = 0;
  // POST /tasks/{id}/cancel; yields the request id.
  virtual void CancelTask(const std::string& task_id, UpstreamCallback<std::string> done) = 0;
  // Downloads a result image (host allowlist and size cap enforced); yields the bytes.
  virtual void Download(const std::string& url, UpstreamCallback<std::string> done) = 0;
};

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_UPSTREAM_H_
