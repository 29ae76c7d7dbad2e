// DownloadUrlSigner: hands out time-limited URLs from which a client fetches a stored image
// directly (S3 presigned GETs), instead of streaming the bytes through the gateway.
#ifndef QWENIMAGE_SERVICE_STORE_DOWNLOAD_URL_H_
#define QWENIMAGE_SERVICE_STORE_DOWNLOAD_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace qwenimage::store {

struct DownloadUrl {
  std::string url;
  absl::Time expire_time;
};

class DownloadUrlSigner {
 public:
  virtual ~DownloadUrlSigner() = default;
  // A URL for image `index` of `task_id`, valid from now until expire_time. Pure computation
  // (no network), cheap enough for every GetTask.
  virtual absl::StatusOr<DownloadUrl> SignDownloadUrl(absl::string_view task_id,
                                                      int index) const = 0;
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_DOWNLOAD_URL_H_
