// Test helpers for the simulator: a blocking libcurl HTTP call and a fixture that runs a
// Simulator in-process on an ephemeral port, with DashScope-shaped request helpers.
#ifndef QWENIMAGE_TESTS_UNIT_SIMULATOR_SIM_TEST_UTIL_H_
#define QWENIMAGE_TESTS_UNIT_SIMULATOR_SIM_TEST_UTIL_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "service/simulator/simulator.h"

namespace qwenimage::simulator {

struct HttpResponse {
  int curl_code = 0;  // CURLE_OK = 0
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased
  nlohmann::json Json() const;  // discarded value if not JSON
};

HttpResponse Http(const std::string& method, const std::string& url, const std::string& body = "",
                  const std::vector<std::string>& headers = {}, long timeout_ms = 10000);

// Width and height from a PNG's IHDR; {0, 0} if `png` is not a PNG.
std::pair<int, int> PngSize(const std::string& png);

class SimulatorTest : public ::testing::Test {
 protected:
  // Tests adjust options_ then call StartSim() (SetUp starts none).
  void StartSim();
  void TearDown() override { sim_.reset(); }

  std::string Url(const std::string& path) const { return sim_->base_url() + path; }
  std::string Root(const std::string& path) const;

  HttpResponse Generate(const nlohmann::json& body, const std::string& key = "sk-simulator",
                        std::vector<std::string> extra_headers = {});
  HttpResponse Create(const nlohmann::json& body, const std::string& key = "sk-simulator",
                      bool async_header = true);
  HttpResponse GetTask(const std::string& id, const std::string& key = "sk-simulator");
  HttpResponse Cancel(const std::string& id, const std::string& key = "sk-simulator");
  HttpResponse List(const std::string& query, const std::string& key = "sk-simulator");
  nlohmann::json Stats();

  // Polls GET task (bounded, ~10 s) until its status is `status`; returns the last body.
  nlohmann::json WaitForStatus(const std::string& id, const std::string& status);
  // Polls `probe` (bounded, ~10 s) until it returns true.
  bool WaitUntil(const std::function<bool()>& probe);

  static nlohmann::json SyncBody(const std::string& model, const std::string& prompt,
                                 nlohmann::json parameters = nlohmann::json::object());
  static nlohmann::json AsyncBody(const std::string& model, const std::string& prompt,
                                  nlohmann::json parameters = nlohmann::json::object());

  SimulatorOptions options_;
  std::unique_ptr<Simulator> sim_;
};

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_TESTS_UNIT_SIMULATOR_SIM_TEST_UTIL_H_
