// The simulator's editing (reference §9): per-family content rules with upstream's messages,
// data URIs and URL inputs (fetched from loopback only), the input checks, the output size an
// edit without a size gets, and result images that name their inputs in a tEXt chunk.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/simulator/edit_inputs.h"
#include "service/simulator/images.h"
#include "service/simulator/request.h"
#include "tests/testing/https_file_server.h"

namespace qwenimage::simulator {
namespace {

std::string DataUri(const std::string& bytes) {
  return absl::StrCat("data:image/png;base64,", absl::Base64Escape(bytes));
}

// A sync body with `images` (each a URL or data URI) before the text item.
std::string EditBody(const std::string& model, const std::vector<std::string>& images,
                     const std::string& params = "{}") {
  std::string content = "[";
  for (const std::string& image : images) absl::StrAppend(&content, R"({"image":")", image, R"("},)");
  absl::StrAppend(&content, R"({"text":"edit it"}])");
  return absl::StrCat(R"({"model":")", model, R"(","input":{"messages":[{"role":"user","content":)",
                      content, R"(}]},"parameters":)", params, "}");
}

std::optional<ApiError> Parse(const std::string& body, ImageRequest* out) {
  return ParseImageRequest(body, CreateEndpoint::kGeneration, 7, out);
}

// Parse, then CheckInputImages (data URIs only: nothing to fetch).
std::optional<ApiError> ParseAndCheck(const std::string& body, ImageRequest* out) {
  if (auto err = Parse(body, out)) return err;
  return CheckInputImages(out);
}

const std::string kSquare = RenderPng(512, 512, 1);
const std::string kTall = RenderPng(512, 1024, 2);

void ExpectError(const std::string& body, const std::string& code, const std::string& message) {
  ImageRequest r;
  std::optional<ApiError> err = ParseAndCheck(body, &r);
  ASSERT_TRUE(err.has_value()) << body.substr(0, 200);
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->code, code);
  EXPECT_EQ(err->message, message);
}

TEST(SimEditTest, EditPlusTakesOneToThreeImages) {
  ImageRequest r;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-edit-plus", {DataUri(kSquare)}), &r));
  EXPECT_EQ(r.inputs.size(), 1u);
  ExpectError(EditBody("qwen-image-edit-plus", {}), "InvalidParameter", "lack of image or text");
  ExpectError(EditBody("qwen-image-edit-plus", std::vector<std::string>(4, DataUri(kSquare))),
              "InvalidParameter", "content supports at most 3 images.");
}

TEST(SimEditTest, QwenImageEditWantsExactlyOneImageAndOneText) {
  ImageRequest r;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-edit", {DataUri(kSquare)}), &r));
  ExpectError(EditBody("qwen-image-edit", {DataUri(kSquare), DataUri(kSquare)}),
              "InvalidParameter", "content length only supports 2");
  ExpectError(EditBody("qwen-image-edit", {}), "InvalidParameter",
              "content length only supports 2");
  const std::string two_texts =
      R"({"model":"qwen-image-edit","input":{"messages":[{"role":"user","content":[{"text":"a"},{"text":"b"}]}]}})";
  ExpectError(two_texts, "InvalidParameter", "lack of image or text");
  const std::string two_messages =
      R"({"model":"qwen-image-edit","input":{"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]}]}})";
  ExpectError(two_messages, "InvalidParameter", "messages length only supports 1");
}

TEST(SimEditTest, QwenImageEditRefusesSizeAndNOverOne) {
  ExpectError(EditBody("qwen-image-edit", {DataUri(kSquare)}, R"({"size":"1024*1024"})"),
              "InvalidParameter", "The size parameter is not supported by qwen-image-edit.");
  ExpectError(EditBody("qwen-image-edit", {DataUri(kSquare)}, R"({"n":2})"), "InvalidParameter",
              "num_images_per_prompt must be 1.");
}

TEST(SimEditTest, EditPlusSidesWithin512To2048AndNUpTo6) {
  ImageRequest r;
  ASSERT_FALSE(ParseAndCheck(
      EditBody("qwen-image-edit-max", {DataUri(kSquare)}, R"({"size":"512*2048","n":6})"), &r));
  EXPECT_EQ(r.width, 512);
  EXPECT_EQ(r.height, 2048);
  EXPECT_EQ(r.n, 6);
  ExpectError(EditBody("qwen-image-edit-plus", {DataUri(kSquare)}, R"({"size":"256*1024"})"),
              "InvalidParameter",
              "The size '256*1024' is invalid, width and height must each be between 512 and "
              "2048.");
  ExpectError(EditBody("qwen-image-edit-plus", {DataUri(kSquare)}, R"({"n":7})"),
              "InvalidParameter", "num_images_per_prompt must be between 1 and 6.");
}

TEST(SimEditTest, TextToImageModelsRefuseImages) {
  ExpectError(EditBody("qwen-image-max", {DataUri(kSquare)}), "InvalidParameter",
              "This model does not support image input.");
}

TEST(SimEditTest, BadImageValues) {
  ExpectError(EditBody("qwen-image-edit-plus", {"data:image/png;base64,@@@"}),
              "InvalidParameter", "The image data URI is not valid base64.");
  ExpectError(EditBody("qwen-image-edit-plus", {"data:text/plain,hello"}), "InvalidParameter",
              "The image data URI must be data:image/<type>;base64,<data>.");
  for (const char* url : {"ftp://example.com/a.png", "https://example.com/a b.png", "a.png"}) {
    ImageRequest r;
    std::optional<ApiError> err = Parse(EditBody("qwen-image-edit-plus", {url}), &r);
    ASSERT_TRUE(err.has_value()) << url;
    EXPECT_EQ(err->code, "InvalidURL") << url;
  }
}

TEST(SimEditTest, InputChecks) {
  ExpectError(EditBody("qwen-image-edit-plus", {DataUri("GIF8 not quite an image")}),
              "InvalidParameter",
              "The format of image 1 is not supported; supported formats: JPG, JPEG, PNG, BMP, "
              "TIFF, WEBP, GIF.");
  ExpectError(EditBody("qwen-image-edit-plus", {DataUri(kSquare), DataUri(RenderPng(200, 600, 3))}),
              "InvalidParameter", "The resolution of image 2 must be between 384 and 3072 pixels per side.");
  std::string big = kSquare;
  big.resize((10 << 20) + 1);
  ExpectError(EditBody("qwen-image-edit-plus", {DataUri(big)}), "InvalidParameter",
              "The image size exceeds 10MB.");
}

TEST(SimEditTest, WithoutASizeTheOutputFollowsTheLastInput) {
  ImageRequest r;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-edit-plus", {DataUri(kSquare), DataUri(kTall)}), &r));
  EXPECT_EQ(r.width, 720);   // sqrt(1024² / 2) = 724.1, to a multiple of 16
  EXPECT_EQ(r.height, 1456);  // sqrt(1024² * 2) = 1448.2, to a multiple of 16
  ImageRequest v1;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-edit", {DataUri(kSquare)}), &v1));
  EXPECT_EQ(v1.width, 1024);
  EXPECT_EQ(v1.height, 1024);
  // A 2.0 generation without inputs keeps its default.
  ImageRequest gen;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-2.0", {}), &gen));
  EXPECT_EQ(gen.width, 2048);
}

TEST(SimEditTest, InputDigestsAreRecordedInOrder) {
  ImageRequest r;
  ASSERT_FALSE(ParseAndCheck(EditBody("qwen-image-2.0", {DataUri(kTall), DataUri(kSquare)}), &r));
  ASSERT_EQ(r.input_sha256.size(), 2u);
  EXPECT_EQ(r.input_sha256[0].size(), 64u);
  EXPECT_NE(r.input_sha256[0], r.input_sha256[1]);
  ImageRequest swapped;
  ASSERT_FALSE(
      ParseAndCheck(EditBody("qwen-image-2.0", {DataUri(kSquare), DataUri(kTall)}), &swapped));
  EXPECT_EQ(swapped.input_sha256[0], r.input_sha256[1]);
}

TEST(SimEditTest, UrlInputsAreFetchedFromLoopbackOnly) {
  testing::HttpsFileServer files;
  files.Add("/a.png", kTall, "image/png");
  ImageRequest r;
  ASSERT_FALSE(Parse(EditBody("qwen-image-edit-plus", {files.Url("/a.png"), DataUri(kSquare)}), &r));
  ASSERT_FALSE(FetchInputImages(&r));
  EXPECT_EQ(r.inputs[0].bytes, kTall);
  EXPECT_EQ(files.Requests("/a.png"), 1);
  ASSERT_FALSE(CheckInputImages(&r));

  ImageRequest missing;
  ASSERT_FALSE(Parse(EditBody("qwen-image-edit-plus", {files.Url("/gone.png")}), &missing));
  std::optional<ApiError> err = FetchInputImages(&missing);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "InvalidParameter.DataInspection");
  EXPECT_EQ(err->message, "Download the media resource of image 1 failed: HTTP 404.");

  ImageRequest remote;
  ASSERT_FALSE(Parse(EditBody("qwen-image-edit-plus", {"https://images.example.com/a.png"}), &remote));
  err = FetchInputImages(&remote);  // refused without a connection attempt
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "InvalidParameter.DataInspection");
  EXPECT_EQ(err->message, "Download the media resource of image 1 failed: the host could not be reached.");
}

TEST(SimEditTest, ResultImagesNameTheirInputs) {
  ImageUrls urls("http://127.0.0.1:1", 42);
  const std::string inputs = absl::StrCat(std::string(64, 'a'), ",", std::string(64, 'b'));
  const std::string url = urls.Make({640, 480, 99, inputs}, absl::Now() + absl::Hours(1));
  const std::string rest = url.substr(std::string("http://127.0.0.1:1").size());
  const size_t q = rest.find('?');
  ImageRef ref;
  ASSERT_EQ(urls.Verify(rest.substr(0, q), rest.substr(q + 1), absl::Now(), &ref),
            ImageUrls::Check::kOk);
  EXPECT_EQ(ref.inputs, inputs);
  const std::string png = RenderPng(ref.width, ref.height, ref.key, ref.inputs);
  EXPECT_NE(png.find(absl::StrCat(kInputsTextKeyword, std::string(1, '\0'), inputs)),
            std::string::npos);
  EXPECT_EQ(RenderPng(64, 64, 1).find(kInputsTextKeyword), std::string::npos);
}

}  // namespace
}  // namespace qwenimage::simulator
