// S3ImageStore: ImageStore on an S3-compatible bucket (AWS S3, Alibaba OSS, MinIO), one object
// per image at "tasks/<task_id>/<index>.png". A single PUT is atomic by S3's nature: readers see
// the old object, the new one, or none.
//
// Every request is a blocking libcurl easy transfer (the store is called from executor threads)
// signed by libcurl's own SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"). libcurl 7.88 neither
// sends nor signs x-amz-content-sha256 by itself, which S3 requires for header-signed requests;
// it does sign the header when the request carries it, and uses its value as the payload hash,
// so every request sends it: the hex sha256 of a PUT's body (S3 refuses a body that does not
// match: XAmzContentSHA256Mismatch) and the empty body's hash otherwise. After a PUT, the ETag
// (the MD5 of a single-part upload) is compared with the MD5 of what was meant to be sent.
//
// Presigned GET URLs (SignDownloadUrl) are query-string SigV4, which libcurl cannot produce; see
// s3_presign.h. Errors: NOT_FOUND (no such image), PERMISSION_DENIED (403: a wrong key, secret,
// region or clock), DATA_LOSS (an upload that arrived corrupted), UNAVAILABLE (5xx, 429 or the
// network), FAILED_PRECONDITION (no such bucket, other refusals); no message holds a secret.
#ifndef QWENIMAGE_SERVICE_STORE_S3_IMAGE_STORE_H_
#define QWENIMAGE_SERVICE_STORE_S3_IMAGE_STORE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/store/download_url.h"
#include "service/store/image_store.h"
#include "service/store/s3_credentials.h"

namespace qwenimage::store {

class S3ImageStore final : public ImageStore, public DownloadUrlSigner {
 public:
  struct Options {
    // scheme://host[:port], no path: "https://oss-cn-hangzhou.aliyuncs.com",
    // "https://s3.eu-west-1.amazonaws.com", "http://minio.storage:9000".
    std::string endpoint;
    std::string bucket;
    std::string region = "us-east-1";  // the SigV4 scope; for OSS e.g. "cn-hangzhou"
    // true: endpoint/bucket/key (MinIO, s3rver); false: virtual-hosted bucket.endpoint/key
    // (OSS requires it; AWS prefers it).
    bool path_style = true;
    S3Credentials credentials;
    // SignDownloadUrl hands out URLs valid this long; 0 = FAILED_PRECONDITION (bytes are
    // proxied). At most 7 days (SigV4's limit).
    absl::Duration presign_ttl = absl::ZeroDuration();
    absl::Duration connect_timeout = absl::Seconds(10);
    absl::Duration request_timeout = absl::Seconds(60);  // one whole request
    // Open() readers fetch ranges of this size: a reader costs O(read_buffer_bytes) memory.
    size_t read_buffer_bytes = 1 << 20;
    // Keys per ListObjectsV2 page; 0 = the server's default (1000 on S3).
    int list_max_keys = 0;
    std::string ca_file;  // "" = the system trust store
    const Clock* clock = nullptr;  // for presigning; nullptr = RealClock
    // Test hook: sees every PUT body after its checksums were taken, so a test can corrupt it.
    std::function<void(std::string& body)> mutate_upload_for_test;
  };

  // Validates the options (no network). INVALID_ARGUMENT names the bad option.
  static absl::StatusOr<std::unique_ptr<S3ImageStore>> Create(Options options);
  ~S3ImageStore() override;

  // Task ids must match [A-Za-z0-9_-]{1,128} and indexes be >= 0, else INVALID_ARGUMENT.
  absl::Status Put(absl::string_view task_id, int index, absl::string_view bytes) override;
  absl::StatusOr<std::string> Get(absl::string_view task_id, int index) override;
  // Reads by ranged GETs of read_buffer_bytes, each with If-Match on the first reply's ETag:
  // unlike DirImageStore, an image replaced or deleted while a reader is open cannot be read
  // on; Read then fails with ABORTED instead of mixing two images. The store must outlive it.
  absl::StatusOr<std::unique_ptr<ImageReader>> Open(absl::string_view task_id,
                                                    int index) override;
  // Lists the task's objects and deletes each.
  absl::Status DeleteTask(absl::string_view task_id) override;
  // ListObjectsV2 of "tasks/" with delimiter "/", every page; sorted.
  absl::StatusOr<std::vector<std::string>> ListTaskIds() override;

  // One ListObjectsV2 of at most one key: whether the bucket exists and the credentials may
  // list it (for a start-up check; errors as above).
  absl::Status CheckAccess() const;

  // A presigned GET valid for presign_ttl from the clock's now.
  absl::StatusOr<DownloadUrl> SignDownloadUrl(absl::string_view task_id,
                                              int index) const override;
  // A presigned GET valid from `now` for `ttl` (1 s to 7 days), whatever presign_ttl says.
  DownloadUrl PresignGet(absl::string_view task_id, int index, absl::Time now,
                         absl::Duration ttl) const;

  // The object's URL as requests use it (path-style or virtual-hosted); for tests and logs.
  std::string ObjectUrl(absl::string_view task_id, int index) const;
  static std::string ObjectKey(absl::string_view task_id, int index);

  struct Reply;  // one HTTP exchange's result; defined in the .cc
  struct Call;   // one HTTP request; defined in the .cc

 private:
  class Reader;
  S3ImageStore(Options options, std::string scheme, std::string host, std::string path_prefix);

  // Sends `call` on a pooled easy handle; transport failures are UNAVAILABLE/DEADLINE_EXCEEDED.
  absl::StatusOr<Reply> Perform(const Call& call) const;
  // Every key (or common prefix) under `prefix`, following continuation tokens; with
  // `one_page`, only the first page of at most one entry.
  absl::StatusOr<std::vector<std::string>> ListKeys(absl::string_view prefix,
                                                    absl::string_view delimiter,
                                                    bool common_prefixes,
                                                    bool one_page = false) const;
  // URL of the bucket root ("…/bucket" or "bucket.host"), no trailing slash.
  std::string BucketUrl() const;

  const Options options_;
  const std::string scheme_;
  // The Host header requests carry (the bucket prepended when virtual-hosted).
  const std::string host_;
  // "/bucket" (path-style) or "" (virtual-hosted).
  const std::string path_prefix_;
  const std::string sigv4_provider_;  // "aws:amz:<region>:s3"

  // Idle easy handles; each keeps its connections alive between requests.
  mutable absl::Mutex pool_mu_;
  mutable std::vector<void*> idle_handles_ ABSL_GUARDED_BY(pool_mu_);  // CURL*
};

}  // namespace qwenimage::store

#endif  // QWENIMAGE_SERVICE_STORE_S3_IMAGE_STORE_H_
