// DecodeRequest / EncodeMessage (service/api/request_codec.h) on arbitrary bytes for every
// request type of qwenimage.v1.ImageService. Input: a type selector byte, then the wire bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/byte_buffer.h"
#include "qwenimage/v1/image_service.pb.h"
#include "service/api/request_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace qwenimage::fuzz {
namespace {

using google::protobuf::Message;

std::unique_ptr<Message> NewRequest(uint8_t selector) {
  switch (selector % 10) {
    case 0: return std::make_unique<v1::GenerateImagesRequest>();
    case 1: return std::make_unique<v1::CreateTaskRequest>();
    case 2: return std::make_unique<v1::GenerateImagesStreamRequest>();
    case 3: return std::make_unique<v1::GetTaskRequest>();
    case 4: return std::make_unique<v1::ListTasksRequest>();
    case 5: return std::make_unique<v1::CancelTaskRequest>();
    case 6: return std::make_unique<v1::DeleteTaskRequest>();
    case 7: return std::make_unique<v1::WatchTaskRequest>();
    case 8: return std::make_unique<v1::ListModelsRequest>();
    default: return std::make_unique<v1::ReadImageRequest>();
  }
}

grpc::ByteBuffer ToBuffer(absl::string_view bytes, size_t split) {
  // Two slices when possible: requests arrive in as many slices as the transport made.
  split = std::min(split, bytes.size());
  grpc::Slice slices[2] = {grpc::Slice(bytes.data(), split),
                           grpc::Slice(bytes.data() + split, bytes.size() - split)};
  return grpc::ByteBuffer(slices, 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t selector = in.Byte();
  const size_t split = in.Byte();
  const absl::string_view bytes = in.Rest();
  std::unique_ptr<Message> out = NewRequest(selector);
  const grpc::Status status = api::DecodeRequest(ToBuffer(bytes, split), out.get());

  std::unique_ptr<Message> strict = NewRequest(selector);
  const bool parses = strict->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  FUZZ_CHECK(status.ok() == parses);
  if (!status.ok()) {
    FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    if (!status.error_details().empty()) {
      // Field violations: each names a string field whose bytes are not UTF-8.
      google::rpc::Status details;
      FUZZ_CHECK(details.ParseFromString(status.error_details()));
      FUZZ_CHECK(details.code() == grpc::StatusCode::INVALID_ARGUMENT);
      // No detail: the bytes are not the message at all (api/status.cc attaches the
      // google.rpc.Status to every error). One: a BadRequest for the fields that are not UTF-8.
      FUZZ_CHECK(details.details_size() <= 1);
      if (details.details_size() == 0) return 0;
      google::rpc::BadRequest bad;
      FUZZ_CHECK(details.details(0).UnpackTo(&bad));
      FUZZ_CHECK(bad.field_violations_size() > 0);
      for (const auto& v : bad.field_violations()) {
        FUZZ_CHECK(!v.field().empty());
        FUZZ_CHECK(v.description() == "must be valid UTF-8");
      }
    }
    return 0;
  }
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*out, *strict));
  // What the gateway encodes decodes to the same message.
  grpc::ByteBuffer encoded;
  api::EncodeMessage(*out, &encoded);
  std::unique_ptr<Message> again = NewRequest(selector);
  FUZZ_CHECK(api::DecodeRequest(encoded, again.get()).ok());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*out, *again));
  return 0;
}

}  // namespace qwenimage::fuzz
