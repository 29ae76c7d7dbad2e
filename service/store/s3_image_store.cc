// S3ImageStore on libcurl easy handles. Signing is libcurl's (CURLOPT_AWS_SIGV4); this file
// only builds URLs, adds x-amz-content-sha256 and reads the replies.
#include "service/store/s3_image_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/http/url.h"
#include "service/store/image_key.h"
#include "service/store/s3_presign.h"
#include "service/store/s3_xml.h"
#include "service/store/sha256.h"

namespace qwenimage::store {

struct S3ImageStore::Call {
  const char* method = "GET";  // GET, PUT, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  absl::string_view body;            // PUT only
  size_t max_body = 16 << 20;        // larger replies fail with RESOURCE_EXHAUSTED
};

struct S3ImageStore::Reply {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  bool too_large = false;

  absl::string_view Header(absl::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

namespace {

constexpr size_t kMaxImageBytes = size_t{256} << 20;
constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// S3's bucket naming rules (also OSS's): 3-63 of [a-z0-9.-], starting and ending alphanumeric.
bool IsBucketName(absl::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
      return false;
    }
  }
  return absl::ascii_isalnum(static_cast<unsigned char>(b.front())) &&
         absl::ascii_isalnum(static_cast<unsigned char>(b.back()));
}

bool IsRegionName(absl::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  return std::all_of(r.begin(), r.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string Md5Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), len));
}

long TimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration() || d <= absl::ZeroDuration()) return 0;
  return std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(d)));
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* call_reply = static_cast<std::pair<const S3ImageStore::Call*, S3ImageStore::Reply*>*>(user);
  const size_t n = size * count;
  S3ImageStore::Reply& reply = *call_reply->second;
  if (reply.body.size() + n > call_reply->first->max_body) {
    reply.too_large = true;
    return 0;
  }
  reply.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<S3ImageStore::Reply*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {  // a new response (after a 100 Continue)
    reply->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  reply->headers.emplace_back(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What a non-2xx reply means, for `what` ("put tasks/t/0.png"). Never includes a credential:
// only the status, S3's error code and its message (printable ASCII, truncated).
absl::Status ReplyError(const S3ImageStore::Reply& reply, absl::string_view what,
                        absl::string_view bucket) {
  const S3ErrorBody error = ParseS3Error(reply.body);
  const std::string detail =
      absl::StrCat(what, ": S3 answered ", reply.status, error.code.empty() ? "" : " ",
                   error.code, error.message.empty() ? "" : ": ", error.message);
  if (reply.status == 403) {
    if (error.code == "SignatureDoesNotMatch") {
      return absl::PermissionDeniedError(absl::StrCat(
          detail, " (check secret_access_key in --s3_credentials_file and --s3_region)"));
    }
    if (error.code == "InvalidAccessKeyId") {
      return absl::PermissionDeniedError(
          absl::StrCat(detail, " (check access_key_id in --s3_credentials_file)"));
    }
    return absl::PermissionDeniedError(detail);
  }
  if (reply.status == 401) return absl::UnauthenticatedError(detail);
  if (reply.status == 404 && error.code == "NoSuchBucket") {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": S3 bucket ", bucket, " does not exist"));
  }
  if (reply.status == 404) return absl::NotFoundError(detail);
  if (reply.status == 412) return absl::AbortedError(detail);
  if (error.code == "XAmzContentSHA256Mismatch" || error.code == "BadDigest" ||
      error.code == "InvalidDigest") {
    return absl::DataLossError(absl::StrCat(detail, " (the upload arrived corrupted)"));
  }
  if (reply.status >= 500 || reply.status == 429) return absl::UnavailableError(detail);
  return absl::FailedPreconditionError(detail);
}

// "bytes 0-1048575/5242880" → first byte and total size.
bool ParseContentRange(absl::string_view value, int64_t* first, int64_t* total) {
  if (!absl::ConsumePrefix(&value, "bytes ")) return false;
  const size_t dash = value.find('-');
  const size_t slash = value.find('/');
  if (dash == absl::string_view::npos || slash == absl::string_view::npos || slash < dash) {
    return false;
  }
  int64_t last = 0;
  return absl::SimpleAtoi(value.substr(0, dash), first) &&
         absl::SimpleAtoi(value.substr(dash + 1, slash - dash - 1), &last) &&
         absl::SimpleAtoi(value.substr(slash + 1), total) && *first >= 0 && last >= *first &&
         *total > last;
}

}  // namespace

// One image read in ranges of read_buffer_bytes; holds at most one range at a time.
class S3ImageStore::Reader final : public ImageReader {
 public:
  Reader(const S3ImageStore& store, std::string key, std::string url, std::string etag,
         int64_t size, std::string first_range)
      : store_(store),
        key_(std::move(key)),
        url_(std::move(url)),
        etag_(std::move(etag)),
        size_(size),
        buffer_(std::move(first_range)),
        fetched_(static_cast<int64_t>(buffer_.size())) {}

  int64_t size() const override { return size_; }

  absl::StatusOr<std::string> Read(size_t max_bytes) override {
    if (max_bytes == 0) return absl::InvalidArgumentError("Read needs max_bytes > 0");
    if (used_ == buffer_.size()) {
      if (fetched_ >= size_) return std::string();
      if (absl::Status s = FetchNext(); !s.ok()) return s;
    }
    const size_t n = std::min(max_bytes, buffer_.size() - used_);
    std::string piece = buffer_.substr(used_, n);
    used_ += n;
    return piece;
  }

 private:
  absl::Status FetchNext() {
    const int64_t last =
        std::min<int64_t>(fetched_ + store_.options_.read_buffer_bytes, size_) - 1;
    Call call;
    call.url = url_;
    call.headers = {absl::StrCat("Range: bytes=", fetched_, "-", last)};
    if (!etag_.empty()) call.headers.push_back(absl::StrCat("If-Match: ", etag_));
    call.max_body = store_.options_.read_buffer_bytes + 1;
    absl::StatusOr<Reply> reply = store_.Perform(call);
    if (!reply.ok()) return reply.status();
    const std::string what = absl::StrCat("read ", key_);
    if (reply->status == 412 || reply->status == 404) {
      return absl::AbortedError(
          absl::StrCat(what, ": the image was replaced or deleted while being read"));
    }
    if (reply->status != 206) return ReplyError(*reply, what, store_.options_.bucket);
    // Servers that ignore If-Match still tell which object version answered.
    if (!etag_.empty() && reply->Header("etag") != etag_) {
      return absl::AbortedError(
          absl::StrCat(what, ": the image was replaced while being read"));
    }
    int64_t first = 0, total = 0;
    if (!ParseContentRange(reply->Header("content-range"), &first, &total) ||
        first != fetched_ || total != size_ ||
        reply->body.size() != static_cast<size_t>(last - fetched_ + 1)) {
      return absl::AbortedError(
          absl::StrCat(what, ": S3 answered another range than asked for"));
    }
    buffer_ = std::move(reply->body);
    used_ = 0;
    fetched_ = last + 1;
    return absl::OkStatus();
  }

  const S3ImageStore& store_;
  const std::string key_;
  const std::string url_;
  const std::string etag_;
  const int64_t size_;
  std::string buffer_;
  size_t used_ = 0;
  int64_t fetched_;  // bytes fetched so far (the next range starts here)
};

absl::StatusOr<std::unique_ptr<S3ImageStore>> S3ImageStore::Create(Options options) {
  absl::StatusOr<http::UrlParts> url = http::ParseUrl(options.endpoint);
  if (!url.ok()) {
    return absl::InvalidArgumentError("--s3_endpoint must be an absolute http(s) URL");
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return absl::InvalidArgumentError("--s3_endpoint must be http:// or https://");
  }
  if (url->has_user_info || url->path != "/" ||
      absl::StrContains(options.endpoint, '?') || absl::StrContains(options.endpoint, '#')) {
    return absl::InvalidArgumentError(
        "--s3_endpoint must be scheme://host[:port] only (no user info, path or query)");
  }
  if (!IsBucketName(options.bucket)) {
    return absl::InvalidArgumentError(
        "--s3_bucket must be 3 to 63 characters of [a-z0-9.-], starting and ending with a "
        "letter or digit");
  }
  if (!IsRegionName(options.region)) {
    return absl::InvalidArgumentError("--s3_region must be a region name like us-east-1");
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("S3 credentials are required (--s3_credentials_file)");
  }
  if (options.presign_ttl < absl::ZeroDuration() || options.presign_ttl > kMaxPresignTtl) {
    return absl::InvalidArgumentError("--s3_presign_ttl must be between 0 and 168h");
  }
  if (options.read_buffer_bytes == 0) {
    return absl::InvalidArgumentError("read_buffer_bytes must be > 0");
  }
  const bool default_port = (url->scheme == "http" && url->port == 80) ||
                            (url->scheme == "https" && url->port == 443);
  std::string host = default_port ? url->host : absl::StrCat(url->host, ":", url->port);
  std::string path_prefix;
  if (options.path_style) {
    path_prefix = absl::StrCat("/", options.bucket);
  } else {
    if (absl::StartsWith(url->host, "[") ||
        std::all_of(url->host.begin(), url->host.end(),
                    [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                                        c == '.'; })) {
      return absl::InvalidArgumentError(
          "virtual-hosted style (--s3_path_style=false) needs a DNS name in --s3_endpoint, not "
          "an IP address");
    }
    host = absl::StrCat(options.bucket, ".", host);
  }
  GlobalInitOnce();
  std::string scheme = url->scheme;
  return std::unique_ptr<S3ImageStore>(new S3ImageStore(
      std::move(options), std::move(scheme), std::move(host), std::move(path_prefix)));
}

S3ImageStore::S3ImageStore(Options options, std::string scheme, std::string host,
                           std::string path_prefix)
    : options_(std::move(options)),
      scheme_(std::move(scheme)),
      host_(std::move(host)),
      path_prefix_(std::move(path_prefix)),
      sigv4_provider_(absl::StrCat("aws:amz:", options_.region, ":s3")) {}

S3ImageStore::~S3ImageStore() {
  absl::MutexLock lock(&pool_mu_);
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

std::string S3ImageStore::ObjectKey(absl::string_view task_id, int index) {
  return absl::StrCat("tasks/", task_id, "/", index, ".png");
}

std::string S3ImageStore::BucketUrl() const {
  return absl::StrCat(scheme_, "://", host_, path_prefix_);
}

std::string S3ImageStore::ObjectUrl(absl::string_view task_id, int index) const {
  return absl::StrCat(BucketUrl(), "/", S3UriEncode(ObjectKey(task_id, index), true));
}

absl::StatusOr<S3ImageStore::Reply> S3ImageStore::Perform(const Call& call) const {
  CURL* e = nullptr;
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_handles_.empty()) {
      e = static_cast<CURL*>(idle_handles_.back());
      idle_handles_.pop_back();
    }
  }
  if (e == nullptr) e = curl_easy_init();
  if (e == nullptr) return absl::InternalError("curl_easy_init failed");
  // curl_easy_reset keeps the handle's live connections: a pooled handle reuses them.
  curl_easy_reset(e);
  Reply reply;
  std::pair<const Call*, Reply*> sink(&call, &reply);
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  const bool has_body = absl::string_view(call.method) == "PUT";
  if (!has_body) {
    headers = curl_slist_append(headers, absl::StrCat("x-amz-content-sha256: ", kEmptySha256).c_str());
  }
  for (const std::string& h : call.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(e, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, TimeoutMs(options_.connect_timeout));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TimeoutMs(options_.request_timeout));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "qwen-image-gateway/0.1");
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4_provider_.c_str());
  curl_easy_setopt(e, CURLOPT_USERNAME, options_.credentials.access_key_id.c_str());
  curl_easy_setopt(e, CURLOPT_PASSWORD, options_.credentials.secret_access_key.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  if (has_body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    if (absl::string_view(call.method) != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call.method);
    }
  }
  const CURLcode code = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  // Drop the credentials from the idle handle (curl_easy_reset would, too, on its next use).
  curl_easy_setopt(e, CURLOPT_USERNAME, nullptr);
  curl_easy_setopt(e, CURLOPT_PASSWORD, nullptr);
  {
    absl::MutexLock lock(&pool_mu_);
    idle_handles_.push_back(e);
  }
  if (code != CURLE_OK) {
    if (reply.too_large) {
      return absl::ResourceExhaustedError(
          absl::StrCat("S3 reply larger than ", call.max_body, " bytes"));
    }
    const std::string detail =
        absl::StrCat("S3 request failed: ", curl_easy_strerror(code),
                     error[0] != '\0' ? ": " : "", error);
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(detail);
    return absl::UnavailableError(detail);
  }
  return reply;
}

absl::Status S3ImageStore::Put(absl::string_view task_id, int index, absl::string_view bytes) {
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  const std::string key = ObjectKey(task_id, index);
  const std::string sha256 = Sha256Hex(bytes);
  const std::string md5 = Md5Hex(bytes);
  std::string mutated;
  Call call;
  call.method = "PUT";
  call.url = ObjectUrl(task_id, index);
  call.headers = {absl::StrCat("x-amz-content-sha256: ", sha256), "Content-Type: image/png"};
  call.body = bytes;
  if (options_.mutate_upload_for_test) {
    mutated = std::string(bytes);
    options_.mutate_upload_for_test(mutated);
    call.body = mutated;
  }
  absl::StatusOr<Reply> reply = Perform(call);
  if (!reply.ok()) return reply.status();
  const std::string what = absl::StrCat("put ", key);
  if (reply->status != 200) return ReplyError(*reply, what, options_.bucket);
  // S3 checked the body against x-amz-content-sha256 already; the ETag of a single-part PUT is
  // the MD5 of what it stored, except under SSE-KMS/SSE-C, where it is opaque.
  const std::string etag_text =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(reply->Header("etag")));
  absl::string_view etag = etag_text;
  absl::ConsumePrefix(&etag, "\"");
  absl::ConsumeSuffix(&etag, "\"");
  const bool opaque_etag = reply->Header("x-amz-server-side-encryption") == "aws:kms" ||
                           !reply->Header("x-amz-server-side-encryption-customer-algorithm").empty();
  if (!opaque_etag && etag.size() == 32 && etag != md5) {
    Call undo;
    undo.method = "DELETE";
    undo.url = call.url;
    (void)Perform(undo);  // best effort: a later Put or DeleteTask replaces or removes it
    return absl::DataLossError(absl::StrCat(
        what, ": the stored object's MD5 (ETag ", etag, ") differs from the image's (", md5,
        "): the upload arrived corrupted"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3ImageStore::Get(absl::string_view task_id, int index) {
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  Call call;
  call.url = ObjectUrl(task_id, index);
  call.max_body = kMaxImageBytes;
  absl::StatusOr<Reply> reply = Perform(call);
  if (!reply.ok()) return reply.status();
  if (reply->status == 404 && ParseS3Error(reply->body).code != "NoSuchBucket") {
    return absl::NotFoundError(absl::StrCat("image ", index, " of task ", task_id));
  }
  if (reply->status != 200) {
    return ReplyError(*reply, absl::StrCat("get ", ObjectKey(task_id, index)), options_.bucket);
  }
  return std::move(reply->body);
}

absl::StatusOr<std::unique_ptr<ImageReader>> S3ImageStore::Open(absl::string_view task_id,
                                                                int index) {
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  const std::string key = ObjectKey(task_id, index);
  Call call;
  call.url = ObjectUrl(task_id, index);
  call.headers = {absl::StrCat("Range: bytes=0-", options_.read_buffer_bytes - 1)};
  call.max_body = options_.read_buffer_bytes + 1;
  absl::StatusOr<Reply> reply = Perform(call);
  if (!reply.ok()) return reply.status();
  if (reply->status == 416) {
    // An empty object has no byte 0: read it whole (it is empty).
    call.headers.clear();
    reply = Perform(call);
    if (!reply.ok()) return reply.status();
  }
  if (reply->status == 404 && ParseS3Error(reply->body).code != "NoSuchBucket") {
    return absl::NotFoundError(absl::StrCat("image ", index, " of task ", task_id));
  }
  const std::string etag(reply->Header("etag"));
  if (reply->status == 200) {  // the whole object (a server that ignores Range, or empty)
    const int64_t size = static_cast<int64_t>(reply->body.size());
    return std::make_unique<Reader>(*this, key, call.url, etag, size, std::move(reply->body));
  }
  if (reply->status != 206) return ReplyError(*reply, absl::StrCat("open ", key), options_.bucket);
  int64_t first = 0, total = 0;
  if (!ParseContentRange(reply->Header("content-range"), &first, &total) || first != 0 ||
      reply->body.size() > static_cast<size_t>(total)) {
    return absl::UnavailableError(absl::StrCat("open ", key, ": bad Content-Range from S3"));
  }
  return std::make_unique<Reader>(*this, key, call.url, etag, total, std::move(reply->body));
}

absl::StatusOr<std::vector<std::string>> S3ImageStore::ListKeys(absl::string_view prefix,
                                                                absl::string_view delimiter,
                                                                bool common_prefixes,
                                                                bool one_page) const {
  std::vector<std::string> out;
  std::string token;
  for (int page = 0;; ++page) {
    // Parameters in canonical (sorted) order and encoding: the URL's query is what SigV4 signs.
    std::string query;
    if (!token.empty()) absl::StrAppend(&query, "continuation-token=", S3UriEncode(token, false), "&");
    if (!delimiter.empty()) absl::StrAppend(&query, "delimiter=", S3UriEncode(delimiter, false), "&");
    absl::StrAppend(&query, "list-type=2&");
    const int max_keys = one_page ? 1 : options_.list_max_keys;
    if (max_keys > 0) absl::StrAppend(&query, "max-keys=", max_keys, "&");
    absl::StrAppend(&query, "prefix=", S3UriEncode(prefix, false));
    Call call;
    call.url = absl::StrCat(BucketUrl(), "/?", query);
    call.max_body = kMaxS3XmlBytes;
    absl::StatusOr<Reply> reply = Perform(call);
    if (!reply.ok()) return reply.status();
    const std::string what = absl::StrCat("list ", prefix);
    if (reply->status != 200) return ReplyError(*reply, what, options_.bucket);
    absl::StatusOr<ListObjectsPage> parsed = ParseListObjectsV2(reply->body);
    if (!parsed.ok()) {
      return absl::UnavailableError(absl::StrCat(what, ": ", parsed.status().message()));
    }
    std::vector<std::string>& items = common_prefixes ? parsed->common_prefixes : parsed->keys;
    for (std::string& item : items) out.push_back(std::move(item));
    if (!parsed->truncated || one_page) break;
    if (parsed->next_continuation_token == token) {
      return absl::UnavailableError(absl::StrCat(what, ": S3 repeated a continuation token"));
    }
    token = std::move(parsed->next_continuation_token);
  }
  return out;
}

absl::Status S3ImageStore::DeleteTask(absl::string_view task_id) {
  if (absl::Status s = ValidateImageTaskId(task_id); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> keys =
      ListKeys(absl::StrCat("tasks/", task_id, "/"), "", /*common_prefixes=*/false);
  if (!keys.ok()) return keys.status();
  for (const std::string& key : *keys) {
    Call call;
    call.method = "DELETE";
    call.url = absl::StrCat(BucketUrl(), "/", S3UriEncode(key, true));
    absl::StatusOr<Reply> reply = Perform(call);
    if (!reply.ok()) return reply.status();
    // 404: deleted meanwhile, which is what was asked for.
    if (reply->status != 204 && reply->status != 200 &&
        !(reply->status == 404 && ParseS3Error(reply->body).code != "NoSuchBucket")) {
      return ReplyError(*reply, absl::StrCat("delete ", key), options_.bucket);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> S3ImageStore::ListTaskIds() {
  absl::StatusOr<std::vector<std::string>> prefixes =
      ListKeys("tasks/", "/", /*common_prefixes=*/true);
  if (!prefixes.ok()) return prefixes.status();
  std::vector<std::string> ids;
  for (absl::string_view p : *prefixes) {
    // "tasks/<id>/"; anything else is nothing this store wrote.
    if (!absl::ConsumePrefix(&p, "tasks/") || !absl::ConsumeSuffix(&p, "/")) continue;
    if (ValidateImageTaskId(p).ok()) ids.emplace_back(p);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

absl::Status S3ImageStore::CheckAccess() const {
  return ListKeys("tasks/", "", /*common_prefixes=*/false, /*one_page=*/true).status();
}

DownloadUrl S3ImageStore::PresignGet(absl::string_view task_id, int index, absl::Time now,
                                     absl::Duration ttl) const {
  PresignParams params;
  params.scheme = scheme_;
  params.host = host_;
  params.path = absl::StrCat(path_prefix_, "/", S3UriEncode(ObjectKey(task_id, index), true));
  params.region = options_.region;
  params.now = now;
  params.ttl = std::clamp(absl::Trunc(ttl, absl::Seconds(1)), absl::Seconds(1), kMaxPresignTtl);
  return DownloadUrl{PresignGetUrl(options_.credentials, params),
                     absl::FromUnixSeconds(absl::ToUnixSeconds(now)) + params.ttl};
}

absl::StatusOr<DownloadUrl> S3ImageStore::SignDownloadUrl(absl::string_view task_id,
                                                          int index) const {
  if (options_.presign_ttl <= absl::ZeroDuration()) {
    return absl::FailedPreconditionError("presigned URLs are off (--s3_presign_ttl=0)");
  }
  if (absl::Status s = ValidateImageKey(task_id, index); !s.ok()) return s;
  const absl::Time now = (options_.clock != nullptr ? options_.clock : RealClock::Get())->Now();
  return PresignGet(task_id, index, now, options_.presign_ttl);
}

}  // namespace qwenimage::store
