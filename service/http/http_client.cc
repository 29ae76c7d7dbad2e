#include "service/http/http_client.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"

namespace qwenimage::http {
namespace {

// Status payload whose presence means the peer may have seen the request.
constexpr char kMayHaveBeenSentUrl[] = "type.qwenimage/http.RequestMayHaveBeenSent";

}  // namespace

absl::string_view HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool RequestMayHaveBeenSent(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kMayHaveBeenSentUrl).has_value();
}

absl::Status MarkRequestMayHaveBeenSent(absl::Status status) {
  if (!status.ok()) status.SetPayload(kMayHaveBeenSentUrl, absl::Cord("1"));
  return status;
}

}  // namespace qwenimage::http
