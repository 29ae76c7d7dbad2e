#include "service/api/request_codec.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/stubs/common.h"
#include "service/api/status.h"

namespace qwenimage::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A copy of a message type in which every `string` field is `bytes`, so that parsing keeps
// invalid UTF-8 instead of failing, and the offending field can be named.
class LenientTypes {
 public:
  static LenientTypes& Get() {
    static LenientTypes* types = new LenientTypes;
    return *types;
  }

  // Never null for a type whose files are in the generated pool.
  const Message* Prototype(const Descriptor* type) {
    absl::MutexLock lock(&mu_);
    AddFile(type->file());
    const Descriptor* lenient = pool_.FindMessageTypeByName(type->full_name());
    return lenient == nullptr ? nullptr : factory_.GetPrototype(lenient);
  }

 private:
  void AddFile(const FileDescriptor* file) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pool_.FindFileByName(file->name()) != nullptr) return;
    for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i));
    FileDescriptorProto proto;
    file->CopyTo(&proto);
    for (auto& message : *proto.mutable_message_type()) Loosen(message);
    pool_.BuildFile(proto);
  }

  static void Loosen(google::protobuf::DescriptorProto& message) {
    for (FieldDescriptorProto& field : *message.mutable_field()) {
      if (field.type() == FieldDescriptorProto::TYPE_STRING) {
        field.set_type(FieldDescriptorProto::TYPE_BYTES);
      }
    }
    for (auto& nested : *message.mutable_nested_type()) Loosen(nested);
  }

  absl::Mutex mu_;
  DescriptorPool pool_ ABSL_GUARDED_BY(mu_);
  google::protobuf::DynamicMessageFactory factory_{&pool_};
};

// Appends the path of every string field of `strict` (the real type) whose value in `loose`
// (its lenient copy) is not valid UTF-8.
void FindInvalidUtf8(const Descriptor* strict, const Message& loose, const std::string& prefix,
                     std::vector<dashscope::Violation>* out) {
  const Reflection* reflection = loose.GetReflection();
  const Descriptor* loose_type = loose.GetDescriptor();
  for (int i = 0; i < strict->field_count(); ++i) {
    const FieldDescriptor* field = strict->field(i);
    const FieldDescriptor* loose_field = loose_type->FindFieldByNumber(field->number());
    if (loose_field == nullptr) continue;
    const std::string path = prefix + field->name();
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      auto check = [&](const std::string& value) {
        if (!google::protobuf::internal::IsStructurallyValidUTF8(value)) {
          out->push_back({path, "must be valid UTF-8"});
        }
      };
      if (field->is_repeated()) {
        for (int j = 0; j < reflection->FieldSize(loose, loose_field); ++j) {
          check(reflection->GetRepeatedString(loose, loose_field, j));
        }
      } else {
        check(reflection->GetString(loose, loose_field));
      }
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE && !field->is_map()) {
      if (field->is_repeated()) {
        for (int j = 0; j < reflection->FieldSize(loose, loose_field); ++j) {
          FindInvalidUtf8(field->message_type(),
                          reflection->GetRepeatedMessage(loose, loose_field, j),
                          absl::StrCat(path, "[", j, "]."), out);
        }
      } else if (reflection->HasField(loose, loose_field)) {
        FindInvalidUtf8(field->message_type(), reflection->GetMessage(loose, loose_field),
                        path + ".", out);
      }
    }
  }
}

}  // namespace

grpc::Status DecodeRequest(const grpc::ByteBuffer& buffer, Message* out) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) {
    return ToGrpcStatus(absl::InvalidArgumentError("unreadable request"));
  }
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (out->ParseFromString(bytes)) return grpc::Status::OK;

  const std::string type = out->GetDescriptor()->full_name();
  const Message* prototype = LenientTypes::Get().Prototype(out->GetDescriptor());
  std::unique_ptr<Message> loose(prototype == nullptr ? nullptr : prototype->New());
  std::vector<dashscope::Violation> violations;
  if (loose != nullptr && loose->ParseFromString(bytes)) {
    FindInvalidUtf8(out->GetDescriptor(), *loose, "", &violations);
  }
  if (violations.empty()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError(absl::StrCat("the request is not a valid ", type, " message")));
  }
  return InvalidArgument(violations);
}

void EncodeMessage(const Message& message, grpc::ByteBuffer* out) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  *out = grpc::ByteBuffer(&slice, 1);
}

}  // namespace qwenimage::api
