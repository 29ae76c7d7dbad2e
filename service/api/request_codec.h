// Decoding of raw request bytes with useful errors. Protobuf refuses a proto3 string field that
// holds invalid UTF-8 before any handler runs; decoding here instead lets the gateway answer
// INVALID_ARGUMENT naming the field rather than an opaque transport error.
#ifndef QWENIMAGE_SERVICE_API_REQUEST_CODEC_H_
#define QWENIMAGE_SERVICE_API_REQUEST_CODEC_H_

#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"

namespace qwenimage::api {

// Parses `buffer` into `out`. On failure: INVALID_ARGUMENT with a field violation for each
// string field that is not valid UTF-8, or a plain INVALID_ARGUMENT if the bytes are not a
// message of that type at all.
grpc::Status DecodeRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* out);

// Serializes `message` into `out` (for raw-method responses and stream writes).
void EncodeMessage(const google::protobuf::Message& message, grpc::ByteBuffer* out);

}  // namespace qwenimage::api

#endif  // QWENIMAGE_SERVICE_API_REQUEST_CODEC_H_
