// `download`: saves one image (--index) or every image of a finished task over ReadImage,
// verifying each file's sha256.
#include <optional>

#include "client/cli/commands.h"
#include "client/cli/image_saver.h"

namespace qwenimage::cli {

int RunDownload(Invocation& inv) {
  std::optional<int64_t> index;
  std::string out;
  FlagSet flags;
  flags.AddOptionalInt("index", &index, "only this image (zero-based; default: every image)");
  flags.AddString("out", &out, "directory for <task_id>-<index>.png, or a .png file (default .)");
  if (!inv.ParseFlags(flags,
                      {"download", "TASK_ID",
                       "Saves a task's stored images as PNG files, checking their sha256."},
                      1, 1)) {
    return inv.exit_code();
  }
  const std::string& task_id = inv.args()[0];
  if (index.has_value()) return SaveImages(inv, task_id, {static_cast<int>(*index)}, 1, out);
  v1::GetTaskRequest req;
  req.set_task_id(task_id);
  v1::Task task;
  grpc::Status status = inv.stub().GetTask(inv.NewContext().get(), req, &task);
  if (!status.ok()) return inv.Fail(status);
  std::vector<int> indices;
  for (const v1::Image& image : task.images()) indices.push_back(image.index());
  if (indices.empty()) {
    return inv.Fail(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "task " + task_id + " has no stored images"));
  }
  return SaveImages(inv, task_id, indices, task.images_size(), out);
}

}  // namespace qwenimage::cli
