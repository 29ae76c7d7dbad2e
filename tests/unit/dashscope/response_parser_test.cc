#include "service/dashscope/response_parser.h"

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/dashscope/errors.h"

namespace qwenimage::dashscope {
namespace {

using Kind = UpstreamError::Kind;

absl::Time Beijing(int y, int mo, int d, int h, int mi, int s, int ms) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::FixedTimeZone(8 * 3600)) +
         absl::Milliseconds(ms);
}

// dashscope-api.md §4: recorded qwen-image-max reply.
constexpr char kSyncSuccess[] =
    R"({"output":{"choices":[{"finish_reason":"stop",
   "message":{"role":"assistant","content":[{"image":"https://dashscope-7c2c.oss-cn-shanghai.aliyuncs.com/7d/93/20260611/d23adf3d/x.png?Expires=1&OSSAccessKeyId=2&Signature=3"}]}}],
  "task_metric":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},
 "usage":{"width":1664,"height":928,"image_count":1},
 "request_id":"5795d646-7395-91d2-85d7-34d8b99a3d8d"})";

TEST(ParseGenerationResponseTest, RecordedSuccess) {
  auto task = ParseGenerationResponse(kSyncSuccess);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kSucceeded);
  EXPECT_EQ(task->request_id, "5795d646-7395-91d2-85d7-34d8b99a3d8d");
  ASSERT_EQ(task->images.size(), 1u);
  EXPECT_THAT(task->images[0].url, ::testing::StartsWith("https://dashscope-7c2c.oss-cn-"));
  EXPECT_EQ(task->image_count, 1);
  EXPECT_EQ(task->width, 1664);
  EXPECT_EQ(task->height, 928);
  EXPECT_TRUE(task->task_id.empty());
}

TEST(ParseGenerationResponseTest, SeveralImagesWithoutTaskMetric) {
  auto task = ParseGenerationResponse(
      R"({"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant",
          "content":[{"image":"https://a/1.png"},{"image":"https://a/2.png"},{"image":"https://a/3.png"}]}}]},
          "usage":{"width":2048,"height":2048,"image_count":3},"request_id":"r"})");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_EQ(task->images.size(), 3u);
  EXPECT_EQ(task->images[2].url, "https://a/3.png");
  EXPECT_EQ(task->image_count, 3);
}

TEST(ParseGenerationResponseTest, NoImagesIsMalformed) {
  auto task = ParseGenerationResponse(
      R"({"output":{"choices":[{"message":{"content":[]}}]},"request_id":"r"})");
  EXPECT_EQ(task.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(GetUpstreamError(task.status()).has_value());
}

TEST(ParseGenerationResponseTest, ErrorEnvelopeInside200) {
  auto task = ParseGenerationResponse(
      R"({"request_id":"r1","code":"DataInspectionFailed","message":"Output data may contain inappropriate content."})");
  auto error = GetUpstreamError(task.status());
  ASSERT_TRUE(error.has_value()) << task.status();
  EXPECT_EQ(error->code, "DataInspectionFailed");
  EXPECT_EQ(error->request_id, "r1");
  EXPECT_EQ(error->kind, Kind::kTerminal);
}

TEST(ParseCreateTaskResponseTest, Documented) {
  auto created = ParseCreateTaskResponse(
      R"({"output":{"task_status":"PENDING","task_id":"0385dc79-5ff8-4d82-bcb6-xxxxxx"},"request_id":"4909100c-7b5a-9f92-bfe5-xxxxxx"})");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->task_id, "0385dc79-5ff8-4d82-bcb6-xxxxxx");
  EXPECT_EQ(created->status, TaskStatus::kPending);
  EXPECT_EQ(created->request_id, "4909100c-7b5a-9f92-bfe5-xxxxxx");
}

TEST(ParseCreateTaskResponseTest, MissingTaskIdIsMalformed) {
  EXPECT_EQ(ParseCreateTaskResponse(R"({"output":{},"request_id":"x"})").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ParseTaskResponseTest, Pending) {
  auto task = ParseTaskResponse(
      R"({"request_id":"r","output":{"task_id":"t1","task_status":"PENDING","submit_time":"2025-09-09 11:38:54.741"}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kPending);
  EXPECT_EQ(task->submit_time, Beijing(2025, 9, 9, 11, 38, 54, 741));
  EXPECT_FALSE(task->scheduled_time.has_value());
}

TEST(ParseTaskResponseTest, Running) {
  auto task = ParseTaskResponse(
      R"({"request_id":"r","output":{"task_id":"t1","task_status":"RUNNING","submit_time":"2025-09-09 11:38:54.741",
          "scheduled_time":"2025-09-09 11:38:54.781","task_metrics":{"TOTAL":1,"SUCCEEDED":0,"FAILED":0}}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kRunning);
  EXPECT_EQ(task->scheduled_time, Beijing(2025, 9, 9, 11, 38, 54, 781));
  EXPECT_TRUE(task->images.empty());
}

// dashscope-api.md §5.2 SUCCEEDED example.
TEST(ParseTaskResponseTest, Succeeded) {
  auto task = ParseTaskResponse(R"({"request_id":"7434edb2-3cba-44e6-a772-xxxxxx",
 "output":{"task_id":"878f591e-ebdf-4e45-97eb-xxxxxx","task_status":"SUCCEEDED",
   "submit_time":"2025-09-09 11:38:54.741","scheduled_time":"2025-09-09 11:38:54.781","end_time":"2025-09-09 11:39:19.484",
   "results":[{"orig_prompt":"<as submitted>","actual_prompt":"<rewritten>","url":"https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/...png?Expires=..."}],
   "task_metrics":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},
 "usage":{"image_count":1}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->task_id, "878f591e-ebdf-4e45-97eb-xxxxxx");
  EXPECT_EQ(task->status, TaskStatus::kSucceeded);
  EXPECT_EQ(task->request_id, "7434edb2-3cba-44e6-a772-xxxxxx");
  EXPECT_EQ(task->end_time, Beijing(2025, 9, 9, 11, 39, 19, 484));
  // 11:39:19.484 Beijing is 03:39:19.484 UTC.
  EXPECT_EQ(absl::FormatTime("%H:%M:%E3S", *task->end_time, absl::UTCTimeZone()), "03:39:19.484");
  ASSERT_EQ(task->images.size(), 1u);
  EXPECT_EQ(task->images[0].orig_prompt, "<as submitted>");
  EXPECT_EQ(task->images[0].actual_prompt, "<rewritten>");
  EXPECT_THAT(task->images[0].url, ::testing::StartsWith("https://dashscope-result-sz"));
  EXPECT_EQ(task->image_count, 1);
  EXPECT_TRUE(task->failures.empty());
}

TEST(ParseTaskResponseTest, PartialFailure) {
  auto task = ParseTaskResponse(R"({"request_id":"r","output":{"task_id":"t","task_status":"SUCCEEDED",
   "results":[{"orig_prompt":"p","url":"https://x.aliyuncs.com/1.png"},
              {"code":"DataInspectionFailed","message":"Output data may contain inappropriate content."}],
   "task_metrics":{"TOTAL":2,"SUCCEEDED":1,"FAILED":1}},"usage":{"image_count":1}})");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_EQ(task->images.size(), 1u);
  EXPECT_EQ(task->images[0].actual_prompt, "");
  ASSERT_EQ(task->failures.size(), 1u);
  EXPECT_EQ(task->failures[0].index, 1);
  EXPECT_EQ(task->failures[0].code, "DataInspectionFailed");
  EXPECT_EQ(task->image_count, 1);
}

TEST(ParseTaskResponseTest, Failed) {
  auto task = ParseTaskResponse(
      R"({"request_id":"r","output":{"task_id":"t","task_status":"FAILED","code":"InvalidParameter","message":"bad size","task_metrics":{"TOTAL":4,"SUCCEEDED":0,"FAILED":4}}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kFailed);
  EXPECT_EQ(task->code, "InvalidParameter");
  EXPECT_EQ(task->message, "bad size");
  EXPECT_EQ(task->image_count, 0);
}

TEST(ParseTaskResponseTest, Canceled) {
  auto task = ParseTaskResponse(
      R"({"request_id":"r","output":{"task_id":"t","task_status":"CANCELED","submit_time":"2025-09-09 11:38:54.741"}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kCanceled);
}

// Recorded: an id that does not exist or expired.
TEST(ParseTaskResponseTest, Unknown) {
  auto task = ParseTaskResponse(
      R"({"request_id":"r","output":{"task_id":"1111","task_status":"UNKNOWN"}})");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->status, TaskStatus::kUnknown);
  EXPECT_EQ(task->task_id, "1111");
}

TEST(ParseTaskResponseTest, MalformedBodies) {
  for (const char* body : {
           R"({"request_id":"r","output":{"task_id":"t","task_sta)",  // truncated
           "<html>502 Bad Gateway</html>",
           "[]",
           R"({"request_id":"r"})",
           R"({"output":{"task_id":"t","task_status":"EXPLODED"}})",
           R"({"output":{"task_id":"t","task_status":"SUCCEEDED","results":[]}})",
       }) {
    auto task = ParseTaskResponse(body);
    EXPECT_EQ(task.status().code(), absl::StatusCode::kDataLoss) << body;
    EXPECT_FALSE(GetUpstreamError(task.status()).has_value()) << body;
  }
}

// dashscope-api.md §5.3.
TEST(ParseTaskListResponseTest, Documented) {
  auto page = ParseTaskListResponse(R"({"total":1,"total_page":1,"page_no":1,"page_size":10,"request_id":"fcb29ae5-x",
 "data":[{"api_key_id":"42677","caller_parent_id":"1493","caller_uid":"1493","gmt_create":1709260684485,
   "start_time":1709260684527,"end_time":1709260685184,"model_name":"text-embedding-async-v2","region":"cn-beijing",
   "request_id":"db5ce040-x","status":"SUCCEEDED","task_id":"6075262c-x",
   "user_api_unique_key":"apikey:v1:embeddings:text-embedding:text-embedding:text-embedding-async-v2"},
   {"gmt_create":1709260684485,"start_time":1709260684527,"model_name":"qwen-image-plus","status":"RUNNING","task_id":"t2"}]})");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total, 1);
  EXPECT_EQ(page->total_page, 1);
  EXPECT_EQ(page->page_no, 1);
  EXPECT_EQ(page->page_size, 10);
  EXPECT_EQ(page->request_id, "fcb29ae5-x");
  ASSERT_EQ(page->data.size(), 2u);
  EXPECT_EQ(page->data[0].task_id, "6075262c-x");
  EXPECT_EQ(page->data[0].status, TaskStatus::kSucceeded);
  EXPECT_EQ(page->data[0].model_name, "text-embedding-async-v2");
  EXPECT_EQ(page->data[0].request_id, "db5ce040-x");
  EXPECT_EQ(page->data[0].gmt_create, absl::FromUnixMillis(1709260684485));
  EXPECT_EQ(page->data[0].end_time, absl::FromUnixMillis(1709260685184));
  EXPECT_EQ(page->data[1].status, TaskStatus::kRunning);
  EXPECT_FALSE(page->data[1].end_time.has_value());
}

TEST(ParseTaskListResponseTest, EmptyAndMalformed) {
  auto empty = ParseTaskListResponse(R"({"total":0,"total_page":0,"page_no":1,"page_size":10,"request_id":"r"})");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->data.empty());
  EXPECT_EQ(ParseTaskListResponse(R"({"data":{}})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseTaskListResponse(R"({"total":1,"da)").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ParseCancelResponseTest, Success) {
  auto id = ParseCancelResponse(R"({"request_id":"45ac7f13-x"})");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "45ac7f13-x");
}

TEST(ParseErrorResponseTest, JsonBody) {
  bool from_dashscope = false;
  UpstreamError e = ParseErrorResponse(
      401, R"({"request_id":"a1c0561c-1dfe-98a6-a62f-983577b8bc5e","code":"InvalidApiKey","message":"Invalid API-key provided."})",
      &from_dashscope);
  EXPECT_TRUE(from_dashscope);
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.code, "InvalidApiKey");
  EXPECT_EQ(e.message, "Invalid API-key provided.");
  EXPECT_EQ(e.request_id, "a1c0561c-1dfe-98a6-a62f-983577b8bc5e");
}

TEST(ParseErrorResponseTest, CancelOfRunningTask) {
  bool from_dashscope = false;
  UpstreamError e = ParseErrorResponse(
      400, R"({"request_id":"r","code":"UnsupportedOperation","message":"Failed to cancel the task, please confirm if the task is in PENDING status."})",
      &from_dashscope);
  EXPECT_TRUE(from_dashscope);
  EXPECT_EQ(e.code, "UnsupportedOperation");
}

TEST(ParseErrorResponseTest, NonJsonBodyIsForeign) {
  bool from_dashscope = true;
  UpstreamError e =
      ParseErrorResponse(502, "<html><body>502 Bad Gateway</body></html>", &from_dashscope);
  EXPECT_FALSE(from_dashscope);
  EXPECT_EQ(e.code, "Unknown");
  EXPECT_THAT(e.message, ::testing::HasSubstr("502 Bad Gateway"));
  UpstreamError empty = ParseErrorResponse(503, "", &from_dashscope);
  EXPECT_FALSE(from_dashscope);
  EXPECT_EQ(empty.code, "Unknown");
  EXPECT_EQ(ParseErrorResponse(400, R"({"message":"no code"})", &from_dashscope).code, "Unknown");
  EXPECT_FALSE(from_dashscope);
}

TEST(ParseTaskStatusTest, AllNames) {
  EXPECT_EQ(ParseTaskStatus("PENDING"), TaskStatus::kPending);
  EXPECT_EQ(ParseTaskStatus("SUSPENDED"), TaskStatus::kPending);
  EXPECT_EQ(ParseTaskStatus("RUNNING"), TaskStatus::kRunning);
  EXPECT_EQ(ParseTaskStatus("SUCCEEDED"), TaskStatus::kSucceeded);
  EXPECT_EQ(ParseTaskStatus("FAILED"), TaskStatus::kFailed);
  EXPECT_EQ(ParseTaskStatus("CANCELED"), TaskStatus::kCanceled);
  EXPECT_EQ(ParseTaskStatus("UNKNOWN"), TaskStatus::kUnknown);
  EXPECT_EQ(ParseTaskStatus("pending"), std::nullopt);
}

}  // namespace
}  // namespace qwenimage::dashscope
