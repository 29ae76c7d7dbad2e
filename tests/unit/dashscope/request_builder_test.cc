#include "service/dashscope/request_builder.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace qwenimage::dashscope {
namespace {

using Json = nlohmann::json;

GenerationParams Params() {
  GenerationParams p;
  p.model = "qwen-image-2.0-pro";
  p.prompt = "a cat \"in\" 雪";
  p.negative_prompt = "blurry";
  p.size = "2048*2048";
  p.n = 2;
  p.seed = 42;
  p.prompt_extend = true;
  p.watermark = false;
  return p;
}

TEST(RequestBuilderTest, SyncBodyMatchesReference) {
  const Json body = Json::parse(BuildGenerationBody(Params()));
  const Json expected = Json::parse(R"({"model":"qwen-image-2.0-pro",
 "input":{"messages":[{"role":"user","content":[{"text":"a cat \"in\" 雪"}]}]},
 "parameters":{"negative_prompt":"blurry","size":"2048*2048","n":2,"prompt_extend":true,"watermark":false,"seed":42}})");
  EXPECT_EQ(body, expected);
}

// §9: the images first, in order, then the one text item; no size lets upstream follow the
// last input.
TEST(RequestBuilderTest, EditBodyMatchesReference) {
  GenerationParams p = Params();
  p.images = {"https://example.com/1.png", "data:image/png;base64,iVBORw0K"};
  p.size.clear();
  const Json body = Json::parse(BuildGenerationBody(p));
  const Json expected = Json::parse(R"({"model":"qwen-image-2.0-pro",
 "input":{"messages":[{"role":"user","content":[{"image":"https://example.com/1.png"},{"image":"data:image/png;base64,iVBORw0K"},{"text":"a cat \"in\" 雪"}]}]},
 "parameters":{"negative_prompt":"blurry","n":2,"prompt_extend":true,"watermark":false,"seed":42}})");
  EXPECT_EQ(body, expected);
}

TEST(RequestBuilderTest, AsyncBodyMatchesReference) {
  GenerationParams p = Params();
  p.model = "qwen-image-plus";
  p.size = "1664*928";
  p.n = 1;
  const Json body = Json::parse(BuildCreateTaskBody(p));
  const Json expected = Json::parse(R"({"model":"qwen-image-plus",
 "input":{"prompt":"a cat \"in\" 雪"},
 "parameters":{"negative_prompt":"blurry","size":"1664*928","n":1,"prompt_extend":true,"watermark":false,"seed":42}})");
  EXPECT_EQ(body, expected);
}

TEST(RequestBuilderTest, OmitsUnsetNegativePromptAndSeed) {
  GenerationParams p = Params();
  p.negative_prompt.clear();
  p.seed.reset();
  const Json params = Json::parse(BuildCreateTaskBody(p))["parameters"];
  EXPECT_FALSE(params.contains("negative_prompt"));
  EXPECT_FALSE(params.contains("seed"));
  EXPECT_EQ(params["n"], 2);
}

TEST(RequestBuilderTest, TaskPaths) {
  EXPECT_EQ(TaskPath("878f591e-ebdf"), "tasks/878f591e-ebdf");
  EXPECT_EQ(CancelTaskPath("878f591e-ebdf"), "tasks/878f591e-ebdf/cancel");
  EXPECT_EQ(TaskPath("../x?y"), "tasks/..%2Fx%3Fy");
}

TEST(RequestBuilderTest, ListPathDefaults) {
  EXPECT_EQ(TaskListPath(TaskListQuery{}), "tasks?page_no=1&page_size=10");
}

TEST(RequestBuilderTest, ListPathWithEveryFilterInBeijingTime) {
  TaskListQuery q;
  // 2025-09-09 03:38:54 UTC is 11:38:54 in UTC+8.
  q.start_time = absl::FromCivil(absl::CivilSecond(2025, 9, 9, 3, 38, 54), absl::UTCTimeZone());
  q.end_time = *q.start_time + absl::Hours(24);
  q.model_name = "qwen-image-plus";
  q.status = TaskStatus::kRunning;
  q.page_no = 2;
  q.page_size = 50;
  EXPECT_EQ(TaskListPath(q),
            "tasks?page_no=2&page_size=50&start_time=20250909113854&end_time=20250910113854"
            "&model_name=qwen-image-plus&status=RUNNING");
}

TEST(RequestBuilderTest, StatusNames) {
  EXPECT_EQ(TaskStatusName(TaskStatus::kPending), "PENDING");
  EXPECT_EQ(TaskStatusName(TaskStatus::kCanceled), "CANCELED");
  EXPECT_EQ(TaskStatusName(TaskStatus::kUnknown), "UNKNOWN");
}

}  // namespace
}  // namespace qwenimage::dashscope
