// Which result-image URLs the gateway may fetch: https on port 443 from allowlisted DashScope
// storage hosts, so a forged or tampered upstream reply cannot aim the gateway at internal services.
#ifndef QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_
#define QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/http/address_policy.h"

namespace qwenimage::dashscope {

// The URL check covers the name; the address the name resolves to is checked at connect time
// by the HTTP client (DownloadAddressPolicy below), since DNS can point an allowed name anywhere.
struct DownloadPolicy {
  // Allowed hosts, matched case-insensitively on whole DNS labels: "aliyuncs.com" and
  // ".aliyuncs.com" both admit "aliyuncs.com" and "x.oss-cn-shanghai.aliyuncs.com", never
  // "evilaliyuncs.com" nor "aliyuncs.com.evil.net". Empty entries admit nothing; IP-address
  // hosts never match an entry.
  std::vector<std::string> host_suffixes = {".aliyuncs.com"};
  // Also admit http or https on any port to loopback hosts: 127.0.0.0/8, [::1] and the exact
  // name "localhost" (--allow_loopback_downloads: tests and the simulator).
  bool allow_loopback = false;
};

// OK if `url` may be downloaded; INVALID_ARGUMENT naming the reason otherwise. The URL is parsed
// with libcurl's own parser (curl_url), so the host checked is the host curl will connect to
// (percent-decoding and numeric IPv4 forms such as "0x7f.1" are normalised first). Refused:
// NUL, control bytes, spaces and backslashes anywhere; user info ("user@host"); IPv6 zone ids;
// hosts that are not plain letter-digit-hyphen labels or IP literals; anything but https on port
// 443 unless the loopback rule above applies. Messages name at most scheme, host and path:
// never the query (signed URLs carry credentials there) nor the user info.
absl::Status CheckDownloadUrl(const DownloadPolicy& policy, absl::string_view url);

// The connect-time address policy for downloads under `policy`: public addresses only, plus
// loopback when allow_loopback is set.
http::AddressPolicy DownloadAddressPolicy(const DownloadPolicy& policy);

}  // namespace qwenimage::dashscope

#endif  // QWENIMAGE_SERVICE_DASHSCOPE_DOWNLOAD_POLICY_H_
