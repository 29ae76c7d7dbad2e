#include "service/logging/logging.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace qwenimage::logging {
namespace {

std::string Format(spdlog::formatter& f, const std::string& text) {
  spdlog::details::log_msg msg("gw", spdlog::level::warn, text);
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonFormatterTest, OneRedactedObjectPerLineWithFields) {
  auto f = MakeJsonFormatter();
  std::string line =
      Format(*f, "task t-42: upstream said \"no\" key=sk-secret1 method=/a.B/C latency_ms=12.5");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["logger"], "gw");
  EXPECT_EQ(j["task_id"], "t-42");
  EXPECT_EQ(j["method"], "/a.B/C");
  EXPECT_EQ(j["latency_ms"], 12.5);
  EXPECT_EQ(j["key"], "sk-***");
  EXPECT_EQ(line.find("secret1"), std::string::npos) << line;
  EXPECT_TRUE(j.contains("time"));
}

TEST(TextFormatterTest, RedactsToo) {
  auto f = MakeTextFormatter();
  std::string line = Format(*f, "GET https://h/x.png?Signature=abc with sk-zzz");
  EXPECT_NE(line.find("https://h/x.png?<redacted> with sk-***"), std::string::npos) << line;
}

TEST(LogLevelTest, ParsesAndSteps) {
  EXPECT_EQ(*ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);

  spdlog::default_logger()->set_level(spdlog::level::info);
  EXPECT_EQ(StepLogLevel(1), spdlog::level::debug);
  EXPECT_EQ(StepLogLevel(5), spdlog::level::trace);
  EXPECT_EQ(StepLogLevel(-10), spdlog::level::err);
  EXPECT_EQ(StepLogLevel(-1), spdlog::level::err);
}

}  // namespace
}  // namespace qwenimage::logging
