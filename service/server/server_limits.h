// ServerLimits: the gRPC server's resource bounds — concurrent streams per connection, the
// largest request accepted, keepalive with ping enforcement, connection idle/age, and a
// grpc::ResourceQuota (memory, threads) — and the ServerBuilder settings that apply them.
#ifndef QWENIMAGE_SERVICE_SERVER_SERVER_LIMITS_H_
#define QWENIMAGE_SERVICE_SERVER_SERVER_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server_builder.h"

namespace qwenimage::server {

struct ServerLimits {
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: a client's further calls on one connection wait (in
  // the client) until one of its calls ends.
  int max_streams_per_connection = 100;
  // Larger requests are refused with RESOURCE_EXHAUSTED before they are decoded, except those of
  // the create methods (CreateTask, GenerateImages, GenerateImagesStream), which may be up to
  // max_create_message_bytes: an edit carries its input images (three of 10 MiB at most).
  // gRPC's own limit is the larger of the two; ImageServiceImpl applies each to its methods.
  int max_receive_message_bytes = 4 << 20;
  int max_create_message_bytes = 32 << 20;
  // The server's gRPC memory (grpc::ResourceQuota): under pressure gRPC shrinks buffers and
  // windows and drops idle connections.
  int64_t memory_limit_bytes = int64_t{512} << 20;
  // Threads gRPC may create (the synchronous services: reflection); 0 = gRPC's default.
  int max_threads = 64;
  // The server pings a connection after this long without activity and closes it when no ack
  // comes within keepalive_timeout (a vanished peer frees its calls).
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Ping enforcement: a client ping sooner than this after the previous one (or any ping while
  // the client has no call open) is a strike; after max_ping_strikes the connection is closed
  // with GOAWAY too_many_pings.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // A connection without calls for this long is closed (GOAWAY; clients reconnect on their next
  // call); 0 = never.
  absl::Duration max_connection_idle = absl::Minutes(10);
  // Every connection is closed after this long (GOAWAY; calls still open get
  // max_connection_age_grace), so that clients spread over new replicas; 0 = never.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Minutes(5);
};

// INVALID_ARGUMENT naming the flag of the first value out of range.
absl::Status CheckServerLimits(const ServerLimits& limits);

// Sets the limits on `builder` (call before BuildAndStart).
void ApplyServerLimits(const ServerLimits& limits, grpc::ServerBuilder& builder);

// "512MiB", "1GiB", "64KiB", "1048576" (bytes; also KB/MB/GB as powers of 1000) → bytes.
absl::StatusOr<int64_t> ParseByteSize(absl::string_view text);

}  // namespace qwenimage::server

#endif  // QWENIMAGE_SERVICE_SERVER_SERVER_LIMITS_H_
