#include "service/simulator/edit_inputs.h"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/image_format.h"

namespace qwenimage::simulator {
namespace {

ApiError DownloadFailed(int position, absl::string_view why) {
  return ApiError{400, "InvalidParameter.DataInspection",
                  absl::StrCat("Download the media resource of image ", position, " failed: ",
                               why, ".")};
}

// The host of an http(s) URL, lower-cased ("[::1]" keeps its brackets).
std::string HostOf(absl::string_view url) {
  absl::string_view rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) rest.remove_prefix(at + 1);
  if (absl::StartsWith(rest, "[")) return absl::AsciiStrToLower(rest.substr(0, rest.find(']') + 1));
  return absl::AsciiStrToLower(rest.substr(0, rest.find(':')));
}

size_t Append(char* data, size_t size, size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * count > static_cast<size_t>(kMaxInputImageBytes) + 1) return 0;
  body->append(data, size * count);
  return size * count;
}

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

int RoundTo16(double v) { return std::max(16, static_cast<int>(std::lround(v / 16.0)) * 16); }

}  // namespace

std::optional<ApiError> FetchInputImages(ImageRequest* request) {
  for (size_t i = 0; i < request->inputs.size(); ++i) {
    ImageRequest::Input& input = request->inputs[i];
    if (input.url.empty()) continue;
    const int position = static_cast<int>(i) + 1;
    const std::string host = HostOf(input.url);
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
      return DownloadFailed(position, "the host could not be reached");
    }
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return DownloadFailed(position, "no HTTP client");
    curl_easy_setopt(curl, CURLOPT_URL, input.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);  // loopback test servers, self-signed
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &input.bytes);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc == CURLE_WRITE_ERROR) {
      return InvalidParameter(absl::StrCat("The size of image ", position, " exceeds 10MB."));
    }
    if (rc != CURLE_OK) return DownloadFailed(position, curl_easy_strerror(rc));
    if (status != 200) return DownloadFailed(position, absl::StrCat("HTTP ", status));
  }
  return std::nullopt;
}

std::optional<ApiError> CheckInputImages(ImageRequest* request) {
  request->input_sha256.clear();
  ImageHeader last;
  for (size_t i = 0; i < request->inputs.size(); ++i) {
    const std::string& bytes = request->inputs[i].bytes;
    const int position = static_cast<int>(i) + 1;
    absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
    if (!header.ok()) {
      return InvalidParameter(absl::StrCat("The format of image ", position,
                                           " is not supported; supported formats: JPG, JPEG, "
                                           "PNG, BMP, TIFF, WEBP, GIF."));
    }
    if (static_cast<int64_t>(bytes.size()) > kMaxInputImageBytes) {
      return InvalidParameter(absl::StrCat("The size of image ", position, " exceeds 10MB."));
    }
    if (std::min(header->width, header->height) < 384 ||
        std::max(header->width, header->height) > 3072) {
      return InvalidParameter(absl::StrCat("The resolution of image ", position,
                                           " must be between 384 and 3072 pixels per side."));
    }
    request->input_sha256.push_back(Sha256Hex(bytes));
    last = *header;
  }
  if (!request->size_given && !request->inputs.empty()) {
    const double ratio = static_cast<double>(last.width) / last.height;
    int w = RoundTo16(std::sqrt(1024.0 * 1024.0 * ratio));
    int h = RoundTo16(std::sqrt(1024.0 * 1024.0 / ratio));
    if (request->model->family == Family::kEdit) {  // each side 512..2048
      w = std::clamp(w, 512, 2048);
      h = std::clamp(h, 512, 2048);
    }
    request->width = w;
    request->height = h;
  }
  return std::nullopt;
}

}  // namespace qwenimage::simulator
