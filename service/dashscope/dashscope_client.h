// DashScopeClient: the Upstream implementation that speaks DashScope's HTTP protocol through an
// HttpClient. It only builds, sends, parses and classifies; retries are the task layer's call.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_DASHSCOPE_CLIENT_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_DASHSCOPE_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/dashscope/api_key.h"
#include "service/dashscope/upstream.h"
#include "service/http/http_client.h"

namespace qwenimage::dashscope {

// "singapore" → https://dashscope-intl.aliyuncs.com/api/v1, "beijing" →
// https://dashscope.aliyuncs.com/api/v1; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> BaseUrlForRegion(absl::string_view region);

// An operator's --dashscope_base_url: https, or http only to a loopback address (a local
// simulator or proxy), since the API key travels in every request. INVALID_ARGUMENT otherwise;
// the message never echoes the URL (it could carry credentials).
absl::Status CheckBaseUrl(absl::string_view url);

class DashScopeClient final : public Upstream {
 public:
  struct Options {
    std::string base_url;  // e.g. https://dashscope-intl.aliyuncs.com/api/v1
    // The key, read afresh for every API request so that a rotation (ApiKey::Set, ApiKeyFile)
    // applies from the next request on. When null, `api_key` is wrapped in a fixed holder.
    std::shared_ptr<const ApiKey> api_key_source;
    std::string api_key;  // used only without api_key_source; never logged nor put in an error
    absl::Duration request_timeout = absl::Seconds(30);
    // Sync generation holds the call until the image exists; upstream gives up near 300 s.
    absl::Duration sync_timeout = absl::Seconds(300);
    absl::Duration connect_timeout = absl::Seconds(10);
    // Download allowlist (whole DNS labels, see DownloadPolicy). Downloads connect only to
    // public addresses, plus loopback with allow_loopback_downloads (which also admits http and
    // any port for loopback hosts); API calls to base_url are not address-checked.
    std::vector<std::string> download_host_suffixes = {".aliyuncs.com"};
    bool allow_loopback_downloads = false;
    size_t max_image_bytes = 64 << 20;
    std::string user_agent = "qwen-image-gateway/0.1";
  };

  // `http` must outlive this client and every callback it has yet to run.
  DashScopeClient(http::HttpClient& http, Options options);

  void Generate(const GenerationParams& params, UpstreamCallback<UpstreamTask> done) override;
  void CreateTask(const GenerationParams& params, UpstreamCallback<CreatedTask> done) override;
  void GetTask(const std::string& task_id, UpstreamCallback<UpstreamTask> done) override;
  void ListTasks(const TaskListQuery& query, UpstreamCallback<TaskListPage> done) override;
  void CancelTask(const std::string& task_id, UpstreamCallback<std::string> done) override;
  void Download(const std::string& url, UpstreamCallback<std::string> done) override;

  struct Shared;  // state the in-flight callbacks keep alive; defined in the .cc

 private:
  http::HttpRequest ApiRequest(absl::string_view method, absl::string_view path,
                               std::string body, absl::Duration timeout) const;

  http::HttpClient& http_;
  std::shared_ptr<const Shared> shared_;
};

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_DASHSCOPE_CLIENT_H_
