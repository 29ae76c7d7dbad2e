// Image editing through gRPC and the embedded simulator: each input kind (uploaded bytes, an
// https URL DashScope fetches, a stored result by reference), another tenant's reference refused,
// every input and model rule refused before anything goes upstream (one test per rule), upstream
// edit errors mapped, the create-size limit, and idempotent creates that compare input bytes.
// The simulator writes the sha256 of the inputs it received, in order, into a tEXt chunk of each
// result PNG, so a test tells which inputs arrived.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/simulator/images.h"
#include "service/store/sha256.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/https_file_server.h"
#include "tests/testing/sim_stats.h"

namespace qwenimage::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kTenMiB = int64_t{10} << 20;

// The text of the tEXt chunk `keyword` of a PNG; "" if it has none.
std::string PngText(const std::string& png, const std::string& keyword) {
  size_t at = 8;  // after the signature
  while (at + 12 <= png.size()) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(png[i])); };
    const uint32_t length = byte(at) << 24 | byte(at + 1) << 16 | byte(at + 2) << 8 | byte(at + 3);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    if (type == "tEXt") {
      const std::string data = png.substr(at + 8, length);
      const size_t nul = data.find('\0');
      if (nul != std::string::npos && data.substr(0, nul) == keyword) return data.substr(nul + 1);
    }
    at += 12 + length;
  }
  return "";
}

// The sha256s the simulator says it received, in order.
std::vector<std::string> ReceivedInputs(const std::string& png) {
  const std::string text = PngText(png, "qwenimage-sim-inputs");
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

std::string Png(int width, int height, uint64_t key = 1) {
  return simulator::RenderPng(width, height, key);
}

// A real PNG header padded to exactly `bytes` (the gateway and the simulator read headers only).
std::string PaddedPng(int64_t bytes, uint64_t key) {
  std::string png = Png(384, 384, key);
  png.resize(static_cast<size_t>(bytes), '\0');
  return png;
}

v1::InputImage Data(std::string bytes, std::string content_type = "") {
  v1::InputImage in;
  in.set_data(std::move(bytes));
  in.set_content_type(std::move(content_type));
  return in;
}
v1::InputImage Url(std::string url) {
  v1::InputImage in;
  in.set_url(std::move(url));
  return in;
}
v1::InputImage TaskImage(std::string uri) {
  v1::InputImage in;
  in.set_task_image(std::move(uri));
  return in;
}

class EditTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    options_.tasks.scheduler.default_limits = {8, 0};
    StartGateway();
  }

  static v1::GenerationSpec Edit(const std::string& model, std::vector<v1::InputImage> inputs,
                                 const std::string& prompt = "put the hat of image 2 on image 1") {
    v1::GenerationSpec spec = Spec(model, prompt);
    for (v1::InputImage& in : inputs) *spec.add_input_images() = std::move(in);
    return spec;
  }

  // GenerateImages as `tenant`: the task at its end, or the RPC's error.
  grpc::Status Generate(const v1::GenerationSpec& spec, v1::Task* task,
                        const std::string& tenant = "", const std::string& request_id = "") {
    v1::GenerateImagesRequest req;
    *req.mutable_spec() = spec;
    req.set_request_id(request_id);
    return stub_->GenerateImages(Context(tenant).get(), req, task);
  }

  int64_t UpstreamCalls() {
    SimStats stats = FetchSimStats(gateway_->upstream_base_url());
    return stats.async_creates + stats.sync_generations;
  }

  // The create is refused INVALID_ARGUMENT naming `field`, and nothing went upstream.
  void ExpectRefused(const v1::GenerationSpec& spec, const std::string& field,
                     const std::string& message_part = "") {
    v1::Task task;
    grpc::Status s = Generate(spec, &task);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(ViolatedFields(s), Contains(field)) << s.error_message();
    if (!message_part.empty()) {
      EXPECT_THAT(s.error_message(), HasSubstr(message_part));
    }
    EXPECT_EQ(UpstreamCalls(), 0);
  }

  // A generated image of the default tenant (a qwen-image-2.0 task without inputs).
  v1::Task Generated(const std::string& tenant = "") {
    v1::Task task;
    grpc::Status s = Generate(Spec("qwen-image-2.0", "a red hat", 1, "512*768"), &task, tenant);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED);
    return task;
  }
};

TEST_F(EditTest, UploadedBytesAreSentAndRecordedWithoutTheirBytes) {
  const std::string input = Png(640, 480, 7);
  v1::Task task;
  ASSERT_TRUE(Generate(Edit("qwen-image-edit-plus", {Data(input)}), &task).ok());
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  ASSERT_EQ(task.spec().input_images_size(), 1);
  const v1::InputImage& recorded = task.spec().input_images(0);
  EXPECT_TRUE(recorded.data().empty());
  EXPECT_EQ(recorded.source_case(), v1::InputImage::SOURCE_NOT_SET);
  EXPECT_EQ(recorded.sha256(), store::Sha256Hex(input));
  EXPECT_EQ(recorded.size_bytes(), static_cast<int64_t>(input.size()));
  EXPECT_EQ(recorded.content_type(), "image/png");
  EXPECT_EQ(recorded.width(), 640);
  EXPECT_EQ(recorded.height(), 480);
  ASSERT_EQ(task.images_size(), 1);
  EXPECT_THAT(ReceivedInputs(ReadImage(task.id(), 0)), ElementsAre(store::Sha256Hex(input)));
  const SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.sync_generations, 1);
  EXPECT_EQ(stats.edit_calls, 1);
  EXPECT_EQ(stats.input_images, 1);
  // A listing carries the record, not the bytes.
  v1::ListTasksRequest list;
  v1::ListTasksResponse page;
  ASSERT_TRUE(stub_->ListTasks(Context().get(), list, &page).ok());
  ASSERT_EQ(page.tasks_size(), 1);
  EXPECT_EQ(page.tasks(0).spec().input_images(0).sha256(), recorded.sha256());
  EXPECT_LT(page.ByteSizeLong(), 4096u);
}

TEST_F(EditTest, HttpsUrlIsFetchedByUpstreamNotByTheGateway) {
  HttpsFileServer files;
  const std::string input = Png(512, 512, 9);
  files.Add("/in/cat.png", input, "image/png");
  const std::string url = files.Url("/in/cat.png");
  v1::Task task;
  ASSERT_TRUE(Generate(Edit("qwen-image-edit-max", {Url(url)}), &task).ok());
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  EXPECT_EQ(task.spec().input_images(0).url(), url);
  EXPECT_TRUE(task.spec().input_images(0).sha256().empty());  // the gateway never saw it
  EXPECT_THAT(ReceivedInputs(ReadImage(task.id(), 0)), ElementsAre(store::Sha256Hex(input)));
  EXPECT_EQ(files.Requests("/in/cat.png"), 1);  // the simulator's one fetch
}

TEST_F(EditTest, AStoredResultIsEditedByReference) {
  const v1::Task first = Generated();
  const std::string stored = ReadImage(first.id(), 0);
  v1::Task task;
  ASSERT_TRUE(
      Generate(Edit("qwen-image-2.0", {TaskImage(first.images(0).uri())}), &task).ok());
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  const v1::InputImage& recorded = task.spec().input_images(0);
  EXPECT_EQ(recorded.task_image(), first.images(0).uri());
  EXPECT_EQ(recorded.sha256(), store::Sha256Hex(stored));
  EXPECT_EQ(recorded.width(), 512);
  EXPECT_EQ(recorded.height(), 768);
  EXPECT_THAT(ReceivedInputs(ReadImage(task.id(), 0)), ElementsAre(store::Sha256Hex(stored)));
  // The edit keeps its own copy: deleting the first task does not take the input away.
  v1::DeleteTaskRequest del;
  del.set_task_id(first.id());
  v1::DeleteTaskResponse deleted;
  ASSERT_TRUE(stub_->DeleteTask(Context().get(), del, &deleted).ok());
  v1::Task again;
  grpc::Status s = Generate(Edit("qwen-image-2.0", {TaskImage(first.images(0).uri())}), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

TEST_F(EditTest, ThreeInputsArriveInTheirOrder) {
  const v1::Task first = Generated();
  HttpsFileServer files;
  const std::string from_url = Png(400, 600, 11);
  files.Add("/b.png", from_url, "image/png");
  const std::string uploaded = Png(600, 400, 12);
  v1::Task task;
  ASSERT_TRUE(Generate(Edit("qwen-image-edit-plus", {Data(uploaded), Url(files.Url("/b.png")),
                                                     TaskImage(first.images(0).uri())}),
                       &task)
                  .ok());
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  EXPECT_THAT(ReceivedInputs(ReadImage(task.id(), 0)),
              ElementsAre(store::Sha256Hex(uploaded), store::Sha256Hex(from_url),
                          store::Sha256Hex(ReadImage(first.id(), 0))));
}

TEST_F(EditTest, AnotherTenantsReferenceIsNotFound) {
  const v1::Task theirs = Generated("tenant-a");
  const int64_t calls = UpstreamCalls();
  v1::Task task;
  grpc::Status s = Generate(Edit("qwen-image-2.0", {TaskImage(theirs.images(0).uri())}), &task,
                            "tenant-b");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  // Told the same as for a task that does not exist: nothing about tenant-a's task.
  v1::Task missing;
  grpc::Status none = Generate(
      Edit("qwen-image-2.0", {TaskImage("qwenimage://tasks/no-such-task/images/0")}), &missing,
      "tenant-b");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("names no task of yours"));
  EXPECT_THAT(none.error_message(), HasSubstr("names no task of yours"));
  EXPECT_EQ(UpstreamCalls(), calls);
  // Its owner may.
  ASSERT_TRUE(Generate(Edit("qwen-image-2.0", {TaskImage(theirs.images(0).uri())}), &task,
                       "tenant-a")
                  .ok());
  EXPECT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED);
}

TEST_F(EditTest, AnEmptySizeFollowsTheLastInputsAspectRatio) {
  v1::Task task;
  ASSERT_TRUE(
      Generate(Edit("qwen-image-edit-plus", {Data(Png(512, 1024, 1)), Data(Png(1024, 512, 2))}),
               &task)
          .ok());
  ASSERT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  EXPECT_EQ(task.spec().size(), "");  // the caller asked for none; upstream decided
  ASSERT_EQ(task.images_size(), 1);
  const v1::Image& out = task.images(0);
  EXPECT_GT(out.width(), out.height());
  EXPECT_NEAR(static_cast<double>(out.width()) / out.height(), 2.0, 0.1);
}

TEST_F(EditTest, ThreeTenMiBInputsAreAccepted) {
  v1::Task task;
  grpc::Status s = Generate(Edit("qwen-image-edit-plus", {Data(PaddedPng(kTenMiB, 1)),
                                                          Data(PaddedPng(kTenMiB, 2)),
                                                          Data(PaddedPng(kTenMiB, 3))}),
                            &task);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(task.state(), v1::TASK_STATE_SUCCEEDED) << task.error().message();
  EXPECT_EQ(task.spec().input_images(2).size_bytes(), kTenMiB);
}

TEST_F(EditTest, ARequestOverTheCreateLimitIsRefusedClearly) {
  // Four 10 MiB inputs: over --max_create_message_bytes (32 MiB) before any input rule.
  std::vector<v1::InputImage> inputs;
  for (int i = 0; i < 4; ++i) inputs.push_back(Data(PaddedPng(kTenMiB, i)));
  v1::Task task;
  grpc::Status s = Generate(Edit("qwen-image-edit-plus", inputs), &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(UpstreamCalls(), 0);
}

TEST_F(EditTest, OtherMethodsKeepTheSmallLimit) {
  v1::GetTaskRequest req;
  req.set_task_id(std::string(5 << 20, 'a'));
  v1::Task task;
  grpc::Status s = stub_->GetTask(Context().get(), req, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("max_receive_message_bytes"));
}

TEST_F(EditTest, TheSameRequestIdWithOtherInputBytesConflicts) {
  v1::Task first;
  ASSERT_TRUE(Generate(Edit("qwen-image-edit-plus", {Data(Png(512, 512, 1))}), &first, "",
                       "edit-1")
                  .ok());
  v1::Task repeat;
  ASSERT_TRUE(Generate(Edit("qwen-image-edit-plus", {Data(Png(512, 512, 1))}), &repeat, "",
                       "edit-1")
                  .ok());
  EXPECT_EQ(repeat.id(), first.id());
  v1::Task other;
  grpc::Status s =
      Generate(Edit("qwen-image-edit-plus", {Data(Png(512, 512, 2))}), &other, "", "edit-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).sync_generations, 1);
}

// Upstream's refusals of an edit become the task's error and the RPC's status.
TEST_F(EditTest, UpstreamEditErrorsAreMapped) {
  HttpsFileServer files;
  files.Add("/notes.txt", "just some text, not an image", "text/plain");
  v1::Task task;
  grpc::Status s = Generate(Edit("qwen-image-edit-plus", {Url(files.Url("/notes.txt"))}), &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  v1::ListTasksResponse page;
  ASSERT_TRUE(stub_->ListTasks(Context().get(), v1::ListTasksRequest(), &page).ok());
  ASSERT_EQ(page.tasks_size(), 1);
  EXPECT_EQ(page.tasks(0).state(), v1::TASK_STATE_FAILED);
  EXPECT_EQ(page.tasks(0).error().http_status(), 400);
  EXPECT_FALSE(page.tasks(0).error().retryable());
  // A URL upstream cannot download (the simulator fetches loopback hosts only).
  v1::Task unreachable;
  grpc::Status down =
      Generate(Edit("qwen-image-edit-plus", {Url("https://images.example.com/cat.png")}),
               &unreachable);
  EXPECT_NE(down.error_code(), grpc::StatusCode::OK);
  EXPECT_NE(down.error_code(), grpc::StatusCode::UNKNOWN);  // nothing was billed
  // Each task's call went upstream once and was never sent again; upstream refused both before
  // generating (nothing billed).
  const SimStats stats = FetchSimStats(gateway_->upstream_base_url());
  EXPECT_EQ(stats.edit_calls, 2);
  EXPECT_EQ(stats.sync_generations, 0);
}

// One test per rule: each is refused INVALID_ARGUMENT naming its field, before any upstream call.
TEST_F(EditTest, RuleEditModelNeedsAnInput) {
  ExpectRefused(Spec("qwen-image-edit-plus"), "spec.input_images", "must be within 1..3");
}
TEST_F(EditTest, RuleAtMostThreeInputs) {
  std::vector<v1::InputImage> four(4, Data(Png(512, 512)));
  ExpectRefused(Edit("qwen-image-2.0", four), "spec.input_images", "must be within 0..3");
}
TEST_F(EditTest, RuleQwenImageEditTakesExactlyOneInput) {
  ExpectRefused(Edit("qwen-image-edit", {Data(Png(512, 512)), Data(Png(512, 512))}),
                "spec.input_images", "must be within 1..1");
}
TEST_F(EditTest, RuleOlderModelsTakeNoInputs) {
  ExpectRefused(Edit("qwen-image-plus", {Data(Png(512, 512))}), "spec.input_images",
                "are not accepted by qwen-image-plus");
}
TEST_F(EditTest, RuleQwenImageEditTakesNoSize) {
  v1::GenerationSpec spec = Edit("qwen-image-edit", {Data(Png(512, 512))});
  spec.set_size("1024*1024");
  ExpectRefused(spec, "spec.size", "must be empty for qwen-image-edit");
}
TEST_F(EditTest, RuleQwenImageEditNIsOne) {
  v1::GenerationSpec spec = Edit("qwen-image-edit", {Data(Png(512, 512))});
  spec.set_n(2);
  ExpectRefused(spec, "spec.n", "must be 1");
}
TEST_F(EditTest, RuleEditPlusNWithin1To6) {
  v1::GenerationSpec spec = Edit("qwen-image-edit-max", {Data(Png(512, 512))});
  spec.set_n(7);
  ExpectRefused(spec, "spec.n", "must be within 1..6");
}
TEST_F(EditTest, RuleEditPlusSidesWithin512To2048) {
  v1::GenerationSpec spec = Edit("qwen-image-edit-plus", {Data(Png(512, 512))});
  spec.set_size("256*1024");
  ExpectRefused(spec, "spec.size", "each be within 512..2048");
}
TEST_F(EditTest, RuleQwen20TotalPixels) {
  v1::GenerationSpec spec = Edit("qwen-image-2.0-pro", {Data(Png(512, 512))});
  spec.set_size("4096*2048");
  ExpectRefused(spec, "spec.size", "pixels");
}
TEST_F(EditTest, RuleInputAtMostTenMiB) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Data(PaddedPng(kTenMiB + 1, 1))}),
                "spec.input_images[0].data", "at most 10485760");
}
TEST_F(EditTest, RuleInputFormatIsSniffed) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Data("%PDF-1.7 not an image at all")}),
                "spec.input_images[0].data", "JPEG, PNG, BMP, TIFF, WEBP or GIF");
}
TEST_F(EditTest, RuleDeclaredContentTypeMustMatch) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Data(Png(512, 512), "image/jpeg")}),
                "spec.input_images[0].content_type", "but the bytes are a PNG image");
}
TEST_F(EditTest, RuleInputSidesWithin384To3072) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Data(Png(200, 512))}),
                "spec.input_images[0].data", "within 384..3072");
}
TEST_F(EditTest, RuleUrlMustBeHttps) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Url("http://example.com/a.png")}),
                "spec.input_images[0].url", "https://");
}
TEST_F(EditTest, RuleUrlCharactersUpstreamRefusesMustBeEncoded) {
  ExpectRefused(Edit("qwen-image-edit-plus", {Url("https://example.com/a cat.png")}),
                "spec.input_images[0].url", "percent-encode");
  ExpectRefused(Edit("qwen-image-edit-plus", {Url("https://example.com/\xe7\x8c\xab.png")}),
                "spec.input_images[0].url", "percent-encode");
}
TEST_F(EditTest, RuleUrlLength) {
  ExpectRefused(
      Edit("qwen-image-edit-plus", {Url("https://example.com/" + std::string(2048, 'a'))}),
      "spec.input_images[0].url", "at most 2048");
}
TEST_F(EditTest, RuleInputNeedsASource) {
  ExpectRefused(Edit("qwen-image-edit-plus", {v1::InputImage()}), "spec.input_images[0]",
                "needs one of data, url or task_image");
}
TEST_F(EditTest, RuleTaskImageIsAGatewayUri) {
  ExpectRefused(Edit("qwen-image-edit-plus", {TaskImage("qwenimage://tasks/x/images/01")}),
                "spec.input_images[0].task_image", "qwenimage://tasks/{task_id}/images/{index}");
}

}  // namespace
}  // namespace qwenimage::testing
