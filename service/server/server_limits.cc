#include "service/server/server_limits.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpcpp/resource_quota.h"

namespace qwenimage::server {
namespace {

int ToMillis(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                              : static_cast<int>(ms);
}

}  // namespace

absl::Status CheckServerLimits(const ServerLimits& l) {
  auto bad = [](absl::string_view flag, absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", rule));
  };
  if (l.max_streams_per_connection < 1) return bad("max_streams_per_connection", "must be >= 1");
  if (l.max_receive_message_bytes < 1024) {
    return bad("max_receive_message_bytes", "must be >= 1024");
  }
  if (l.max_create_message_bytes < 1024) {
    return bad("max_create_message_bytes", "must be >= 1024");
  }
  if (l.memory_limit_bytes < (int64_t{16} << 20)) {
    return bad("grpc_memory_limit", "must be at least 16MiB");
  }
  if (l.max_threads != 0 && l.max_threads < 4) {
    return bad("grpc_max_threads", "must be 0 (gRPC's default) or >= 4");
  }
  if (l.keepalive_time < absl::Seconds(1) || l.keepalive_timeout < absl::Seconds(1)) {
    return bad("grpc_keepalive_time and --grpc_keepalive_timeout", "must be >= 1s");
  }
  if (l.min_client_ping_interval < absl::ZeroDuration()) {
    return bad("grpc_min_client_ping_interval", "must be >= 0");
  }
  if (l.max_ping_strikes < 0) return bad("grpc_max_ping_strikes", "must be >= 0");
  if (l.max_connection_idle < absl::ZeroDuration() ||
      l.max_connection_age < absl::ZeroDuration() ||
      l.max_connection_age_grace < absl::ZeroDuration()) {
    return bad("grpc_max_connection_idle, --grpc_max_connection_age and its grace",
               "must be >= 0");
  }
  return absl::OkStatus();
}

void ApplyServerLimits(const ServerLimits& l, grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, l.max_streams_per_connection);
  builder.SetMaxReceiveMessageSize(
      std::max(l.max_receive_message_bytes, l.max_create_message_bytes));

  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ToMillis(l.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ToMillis(l.keepalive_timeout));
  // The server's own pings go on while a call is open but sends nothing (a stalled reader, an
  // idle watch), so that a vanished peer is noticed there too.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Ping enforcement. On a server "permit without calls" = 0 also makes a client's ping while it
  // has no call open a strike.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ToMillis(l.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, l.max_ping_strikes);

  if (l.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ToMillis(l.max_connection_idle));
  }
  if (l.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, ToMillis(l.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               ToMillis(l.max_connection_age_grace));
  }

  // The builder keeps its own reference to the quota.
  grpc::ResourceQuota quota("qwen-image-gateway");
  quota.Resize(static_cast<size_t>(l.memory_limit_bytes));
  if (l.max_threads > 0) quota.SetMaxThreads(l.max_threads);
  builder.SetResourceQuota(quota);
}

absl::StatusOr<int64_t> ParseByteSize(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[digits]))) {
    ++digits;
  }
  int64_t n = 0;
  if (digits == 0 || digits > 15 || !absl::SimpleAtoi(s.substr(0, digits), &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a size such as 512MiB, 1GiB or 1048576, got \"",
                     absl::CHexEscape(text.substr(0, 32)), "\""));
  }
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(digits)));
  int64_t multiplier = 0;
  if (unit.empty() || unit == "b") {
    multiplier = 1;
  } else if (unit == "kib") {
    multiplier = int64_t{1} << 10;
  } else if (unit == "mib") {
    multiplier = int64_t{1} << 20;
  } else if (unit == "gib") {
    multiplier = int64_t{1} << 30;
  } else if (unit == "kb") {
    multiplier = 1000;
  } else if (unit == "mb") {
    multiplier = 1000 * 1000;
  } else if (unit == "gb") {
    multiplier = 1000 * 1000 * 1000;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown size unit \"", absl::CHexEscape(unit.substr(0, 8)), "\" (B, KiB, MiB, GiB)"));
  }
  if (n > std::numeric_limits<int64_t>::max() / multiplier) {
    return absl::InvalidArgumentError("size too large");
  }
  return n * multiplier;
}

}  // namespace qwenimage::server
