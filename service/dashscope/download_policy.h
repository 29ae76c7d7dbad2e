// Which result-image URLs the gateway may fetch: HTTPS from DashScope's storage hosts only, so a
// forged or tampered upstream reply cannot turn the gateway into a proxy to internal services.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qwenimage::dashscope {

struct DownloadPolicy {
  // A host is allowed if it ends with one of these (".aliyuncs.com" allows
  // "x.oss-cn-shanghai.aliyuncs.com", not "aliyuncs.com.evil.net").
  std::vector<std::string> host_suffixes = {".aliyuncs.com"};
  // Also allow http/https to 127.0.0.0/8, localhost and [::1] (tests, the simulator).
  bool allow_loopback = false;
};

// OK if `url` may be downloaded; INVALID_ARGUMENT naming the reason otherwise.
absl::Status CheckDownloadUrl(const DownloadPolicy& policy, absl::string_view url);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_
