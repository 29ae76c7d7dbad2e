// ReadImage streaming into memory, checksum verification with OpenSSL, and an atomic write
// (temporary file then rename) so that a failed download never leaves a partial PNG.
#include "client/cli/image_saver.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/exit_codes.h"
#include "google/protobuf/struct.pb.h"

namespace qwenimage::cli {
namespace {

grpc::Status ReadImage(Invocation& inv, const std::string& task_id, int index,
                       v1::Image* metadata, std::string* bytes) {
  v1::ReadImageRequest req;
  req.set_task_id(task_id);
  req.set_index(index);
  auto ctx = inv.NewContext(/*wait=*/true);
  auto reader = inv.stub().ReadImage(ctx.get(), req);
  v1::ReadImageResponse chunk;
  while (reader->Read(&chunk)) {
    if (chunk.has_metadata()) *metadata = chunk.metadata();
    bytes->append(chunk.data());
  }
  return reader->Finish();
}

grpc::Status WriteFile(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::string tmp = path + ".part";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file.good()) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, absl::StrCat("cannot write ", tmp));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return grpc::Status(grpc::StatusCode::UNKNOWN,
                        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", ec.message()));
  }
  return grpc::Status::OK;
}

void PrintSaved(Invocation& inv, const std::string& path, const std::string& task_id,
                const v1::Image& image, size_t size) {
  if (!inv.options().json) {
    inv.out().Line(absl::StrCat(path, "  ", size, " bytes  ", image.width(), "x", image.height(),
                                "  sha256 ", image.sha256()));
    return;
  }
  google::protobuf::Struct doc;
  auto& fields = *doc.mutable_fields();
  fields["path"].set_string_value(path);
  fields["taskId"].set_string_value(task_id);
  fields["index"].set_number_value(image.index());
  fields["sizeBytes"].set_number_value(static_cast<double>(size));
  fields["width"].set_number_value(image.width());
  fields["height"].set_number_value(image.height());
  fields["sha256"].set_string_value(image.sha256());
  inv.out().Json(doc);
}

}  // namespace

std::string ImagePath(absl::string_view out, absl::string_view task_id, int index, int count) {
  if (absl::EndsWithIgnoreCase(out, ".png")) {
    if (count == 1) return std::string(out);
    return absl::StrCat(out.substr(0, out.size() - 4), "-", index, ".png");
  }
  std::filesystem::path dir(out.empty() ? "." : std::string(out));
  return (dir / absl::StrCat(task_id, "-", index, ".png")).string();
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

int SaveImages(Invocation& inv, const std::string& task_id, const std::vector<int>& indices,
               int count, absl::string_view out) {
  for (int index : indices) {
    v1::Image image;
    std::string bytes;
    grpc::Status status = ReadImage(inv, task_id, index, &image, &bytes);
    if (!status.ok()) return inv.Fail(status);
    if (!image.sha256().empty() && absl::AsciiStrToLower(image.sha256()) != Sha256Hex(bytes)) {
      return inv.Fail(absl::StrCat("image ", index, " of task ", task_id,
                                   ": sha256 mismatch (expected ", image.sha256(), ", got ",
                                   Sha256Hex(bytes), ")"),
                      kExitError);
    }
    std::string path = ImagePath(out, task_id, index, count);
    status = WriteFile(path, bytes);
    if (!status.ok()) return inv.Fail(status.error_message(), kExitError);
    PrintSaved(inv, path, task_id, image, bytes.size());
  }
  return kExitOk;
}

}  // namespace qwenimage::cli
