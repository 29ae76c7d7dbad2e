// Create-body parsing and validation against the model catalog (reference §3).
#include "service/simulator/request.h"

#include <string>

#include "gtest/gtest.h"

namespace qwenimage::simulator {
namespace {

std::string Sync(const std::string& model, const std::string& params,
                 const std::string& content = R"([{"text":"a cat"}])") {
  return R"({"model":")" + model + R"(","input":{"messages":[{"role":"user","content":)" + content +
         R"(}]},"parameters":)" + params + "}";
}

std::string Async(const std::string& model, const std::string& input, const std::string& params) {
  return R"({"model":")" + model + R"(","input":)" + input + R"(,"parameters":)" + params + "}";
}

std::optional<ApiError> ParseSync(const std::string& body, ImageRequest* out) {
  return ParseImageRequest(body, CreateEndpoint::kGeneration, 7, out);
}

TEST(FindModelTest, Catalog) {
  for (const char* m : {"qwen-image", "qwen-image-plus", "qwen-image-plus-2026-01-09",
                        "qwen-image-max", "qwen-image-max-2025-12-30", "qwen-image-2.0",
                        "qwen-image-2.0-2026-03-03", "qwen-image-2.0-pro",
                        "qwen-image-2.0-pro-2026-04-22", "qwen-image-2.0-pro-2026-03-03"}) {
    EXPECT_NE(FindModel(m), nullptr) << m;
  }
  EXPECT_TRUE(FindModel("qwen-image")->async);
  EXPECT_TRUE(FindModel("qwen-image-plus")->async);
  EXPECT_FALSE(FindModel("qwen-image-max")->async);
  EXPECT_EQ(FindModel("qwen-image-2.0-pro")->family, Family::kV2);
  EXPECT_EQ(FindModel("qwen-image-edit")->family, Family::kEditV1);
  EXPECT_EQ(FindModel("qwen-image-edit-plus-2025-12-15")->family, Family::kEdit);
  EXPECT_FALSE(FindModel("qwen-image-edit-max")->async);
  EXPECT_EQ(FindModel("wanx-v1"), nullptr);
}

TEST(ParseImageRequestTest, DefaultsPerFamily) {
  ImageRequest r;
  ASSERT_FALSE(ParseSync(Sync("qwen-image-max", "{}"), &r));
  EXPECT_EQ(r.width, 1664);
  EXPECT_EQ(r.height, 928);
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.seed, 7);
  EXPECT_TRUE(r.prompt_extend);
  EXPECT_FALSE(r.watermark);
  ASSERT_FALSE(ParseSync(Sync("qwen-image-2.0", "{}"), &r));
  EXPECT_EQ(r.width, 2048);
  EXPECT_EQ(r.height, 2048);
}

TEST(ParseImageRequestTest, SizesPerModel) {
  ImageRequest r;
  for (const char* size : {"1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664",
                           "1472*1140", "1140*1472"}) {
    EXPECT_FALSE(ParseSync(Sync("qwen-image-plus", std::string(R"({"size":")") + size + "\"}"), &r))
        << size;
  }
  EXPECT_TRUE(ParseSync(Sync("qwen-image-plus", R"({"size":"1024*1024"})"), &r));
  EXPECT_FALSE(ParseSync(Sync("qwen-image-2.0", R"({"size":"2688*1536"})"), &r));
  EXPECT_FALSE(ParseSync(Sync("qwen-image-2.0", R"({"size":"512*512"})"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image-2.0", R"({"size":"511*512"})"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image-2.0", R"({"size":"2048*2049"})"), &r));
  std::optional<ApiError> x = ParseSync(Sync("qwen-image-2.0", R"({"size":"1024x1024"})"), &r);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->http_status, 400);
  EXPECT_EQ(x->code, "InvalidParameter");
}

TEST(ParseImageRequestTest, NAndSeed) {
  ImageRequest r;
  std::optional<ApiError> e = ParseSync(Sync("qwen-image-max", R"({"n":2})"), &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "num_images_per_prompt must be 1.");
  EXPECT_FALSE(ParseSync(Sync("qwen-image-2.0-pro", R"({"n":6})"), &r));
  EXPECT_EQ(r.n, 6);
  EXPECT_TRUE(ParseSync(Sync("qwen-image-2.0-pro", R"({"n":7})"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image-2.0-pro", R"({"n":0})"), &r));
  EXPECT_FALSE(ParseSync(Sync("qwen-image", R"({"seed":2147483647})"), &r));
  EXPECT_EQ(r.seed, 2147483647);
  EXPECT_TRUE(ParseSync(Sync("qwen-image", R"({"seed":2147483648})"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image", R"({"seed":-1})"), &r));
}

TEST(ParseImageRequestTest, EnvelopeErrors) {
  ImageRequest r;
  EXPECT_EQ(ParseSync("{not json", &r)->code, "BadRequest.IllegalInput");
  EXPECT_EQ(ParseSync(R"({"input":{}})", &r)->code, "BadRequest.EmptyModel");
  EXPECT_EQ(ParseSync(R"({"model":"qwen-image"})", &r)->code, "BadRequest.EmptyInput");
  std::optional<ApiError> unknown = ParseSync(Sync("qwen-image-9000", "{}"), &r);
  EXPECT_EQ(unknown->code, "InvalidParameter");
  EXPECT_EQ(unknown->message, "Model not exist.");
  EXPECT_TRUE(ParseSync(Sync("qwen-image", "{}", R"([{"text":"a"},{"text":"b"}])"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image", "{}", "[]"), &r));
  EXPECT_FALSE(ParseSync(Sync("qwen-image-2.0", "{}", R"([{"image":"http://x/1.png"},{"text":"b"}])"), &r));
  EXPECT_TRUE(ParseSync(Sync("qwen-image-max", "{}", R"([{"image":"http://x/1.png"},{"text":"b"}])"), &r));
}

TEST(ParseImageRequestTest, AsyncEndpointRules) {
  ImageRequest r;
  std::optional<ApiError> e = ParseImageRequest(Async("qwen-image-max", R"({"prompt":"a"})", "{}"),
                                                CreateEndpoint::kImageSynthesis, 1, &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 403);
  EXPECT_EQ(e->code, "AccessDenied");
  EXPECT_FALSE(ParseImageRequest(Async("qwen-image-plus", R"({"prompt":"a"})", "{}"),
                                 CreateEndpoint::kImageSynthesis, 1, &r));
  EXPECT_TRUE(ParseImageRequest(Async("qwen-image-plus", "{}", "{}"),
                                CreateEndpoint::kImageSynthesis, 1, &r));
}

TEST(ParseImageRequestTest, NegativePromptInInputOrParametersWhichWins) {
  ImageRequest r;
  ASSERT_FALSE(ParseImageRequest(Async("qwen-image", R"({"prompt":"a","negative_prompt":"in"})", "{}"),
                                 CreateEndpoint::kImageSynthesis, 1, &r));
  EXPECT_EQ(r.negative_prompt, "in");
  ASSERT_FALSE(ParseImageRequest(Async("qwen-image", R"({"prompt":"a","negative_prompt":"in"})",
                                       R"({"negative_prompt":"param"})"),
                                 CreateEndpoint::kImageSynthesis, 1, &r));
  EXPECT_EQ(r.negative_prompt, "param");
}

TEST(TruncateCharsTest, CountsCodePoints) {
  EXPECT_EQ(TruncateChars("abcdef", 3), "abc");
  EXPECT_EQ(TruncateChars("abc", 3), "abc");
  EXPECT_EQ(TruncateChars("\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab", 2), "\xe7\x8c\xab\xe7\x8c\xab");
  ImageRequest r;
  std::string long_prompt(1000, 'p');
  ASSERT_FALSE(ParseSync(Sync("qwen-image", "{}", R"([{"text":")" + long_prompt + "\"}]"), &r));
  EXPECT_EQ(r.prompt.size(), 800u);
  EXPECT_EQ(r.full_prompt.size(), 1000u);
}

}  // namespace
}  // namespace qwenimage::simulator
