// `generate` and `edit`: CreateTask (with a request id so that retries never create a second
// task), then WatchTask to the end, then the PNGs over ReadImage. `edit` adds input images.
#include <openssl/rand.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/image_saver.h"
#include "client/cli/task_format.h"
#include "client/cli/task_watch.h"

namespace qwenimage::cli {
namespace {

constexpr int kCreateAttempts = 3;

std::string NewUuidV4() {
  uint8_t b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    for (uint8_t& byte : b) byte = static_cast<uint8_t>(absl::ToUnixNanos(absl::Now()) >> 3);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return absl::StrFormat(
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
      b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool Retryable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// The request id makes the retry return the task the lost attempt may have created.
grpc::Status CreateWithRetry(Invocation& inv, const v1::CreateTaskRequest& req, v1::Task* task) {
  grpc::Status status;
  for (int attempt = 1; attempt <= kCreateAttempts; ++attempt) {
    status = inv.stub().CreateTask(inv.NewContext().get(), req, task);
    if (status.ok() || !Retryable(status) || attempt == kCreateAttempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
  }
  return status;
}

// An --image value as an input: a gateway URI, an http(s) URL (the server accepts https only
// and says so), or a local file read here. Returns kExitOk, or the usage error it printed.
int AddInput(Invocation& inv, const std::string& value, v1::GenerationSpec& spec) {
  v1::InputImage& input = *spec.add_input_images();
  if (absl::StartsWith(value, "qwenimage://")) {
    input.set_task_image(value);
    return kExitOk;
  }
  if (absl::StartsWithIgnoreCase(value, "https://") ||
      absl::StartsWithIgnoreCase(value, "http://")) {
    input.set_url(value);
    return kExitOk;
  }
  std::ifstream file(value, std::ios::binary);
  if (!file.is_open()) {
    return inv.Fail(absl::StrFormat("--image=%s: cannot open the file", value), kExitUsage);
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    return inv.Fail(absl::StrFormat("--image=%s: cannot read the file", value), kExitUsage);
  }
  input.set_data(std::move(bytes));  // the server sniffs the format
  return kExitOk;
}

// `edit` is `generate` with --image inputs and an edit model by default.
int RunCreate(Invocation& inv, bool edit) {
  v1::CreateTaskRequest req;
  v1::GenerationSpec& spec = *req.mutable_spec();
  std::string model = edit ? "qwen-image-edit-plus" : "qwen-image-plus";
  std::string prompt, negative_prompt, size, request_id, out;
  std::vector<std::string> images;
  int32_t n = 0;
  std::optional<int64_t> seed;
  std::optional<bool> prompt_extend, watermark;
  bool no_wait = false;
  FlagSet flags;
  flags.AddString("model", &model,
                  edit ? "model name (default qwen-image-edit-plus; see `models` for inputs)"
                       : "model name (default qwen-image-plus; see `models`)");
  if (edit) {
    flags.AddRepeated("image", &images,
                      "an input image, repeatable and in order (image 1, 2, 3): a file (uploaded), "
                      "an https URL (fetched by DashScope) or qwenimage://tasks/ID/images/N (a "
                      "stored result); at least one");
  }
  flags.AddString("prompt", &prompt,
                  edit ? "what to change, naming the inputs as image 1/2/3 (required)"
                       : "what to generate (required)");
  flags.AddString("negative_prompt", &negative_prompt, "what to avoid");
  flags.AddString("size", &size,
                  edit ? "WIDTH*HEIGHT, e.g. 1024*1024 (default: the last input's aspect ratio)"
                       : "WIDTH*HEIGHT, e.g. 1328*1328 (default: the model's)");
  flags.AddInt("n", &n, "number of images (default: the model's, 1)");
  flags.AddOptionalInt("seed", &seed, "random seed in [0, 2147483647] (default random)");
  flags.AddOptionalBool("prompt_extend", &prompt_extend,
                        "let an LLM rewrite the prompt (server default true)");
  flags.AddOptionalBool("watermark", &watermark, "add a watermark (server default false)");
  flags.AddString("request_id", &request_id, "idempotency key (default: a new UUID)");
  flags.AddString("out", &out, "directory for <task_id>-<index>.png, or a .png file (default .)");
  flags.AddBool("no_wait", &no_wait, "print the created task and exit without waiting");
  const char* const kGenerateHelp =
      "Creates a task, waits for it (a live progress line on a terminal) and writes its PNGs,\n"
      "printing each path and size. Exits 3 if the task ends FAILED or CANCELLED.";
  const char* const kEditHelp =
      "Edits input images: creates a task with them, waits for it (a live progress line on a\n"
      "terminal) and writes its PNGs, printing each path and size. Files are read and uploaded\n"
      "(at most 10 MiB each); an unreadable file exits 2 before any call. Exits 3 if the task\n"
      "ends FAILED or CANCELLED.";
  if (!inv.ParseFlags(flags, {edit ? "edit" : "generate", "", edit ? kEditHelp : kGenerateHelp},
                      0, 0)) {
    return inv.exit_code();
  }
  if (prompt.empty()) return inv.Fail("--prompt is required", kExitUsage);
  if (edit && images.empty()) return inv.Fail("--image is required (1 to 3)", kExitUsage);
  for (const std::string& image : images) {
    if (int code = AddInput(inv, image, spec); code != kExitOk) return code;
  }
  spec.set_model(model);
  spec.set_prompt(prompt);
  spec.set_negative_prompt(negative_prompt);
  spec.set_size(size);
  spec.set_n(n);
  if (seed.has_value()) spec.set_seed(*seed);
  if (prompt_extend.has_value()) spec.set_prompt_extend(*prompt_extend);
  if (watermark.has_value()) spec.set_watermark(*watermark);
  req.set_request_id(request_id.empty() ? NewUuidV4() : request_id);

  v1::Task task;
  grpc::Status status = CreateWithRetry(inv, req, &task);
  if (!status.ok()) return inv.Fail(status);
  if (no_wait) {
    if (inv.options().json) {
      inv.out().Json(task);
    } else {
      for (const std::string& line : TaskDetails(task)) inv.out().Line(line);
    }
    return kExitOk;
  }
  status = WatchToEnd(inv, task.id(), &task);
  if (!status.ok()) return inv.Fail(status);
  if (int code = FinishedTaskExitCode(inv, task); code != kExitOk) return code;
  if (!inv.options().json) {
    for (const v1::ImageError& e : task.image_errors()) {
      inv.out().Line(absl::StrFormat("image %d failed: %s: %s", e.index(), e.code(), e.message()));
    }
  }
  std::vector<int> indices;
  for (const v1::Image& image : task.images()) indices.push_back(image.index());
  return SaveImages(inv, task.id(), indices, task.images_size(), out);
}

}  // namespace

int RunGenerate(Invocation& inv) { return RunCreate(inv, /*edit=*/false); }
int RunEdit(Invocation& inv) { return RunCreate(inv, /*edit=*/true); }

}  // namespace qwenimage::cli
