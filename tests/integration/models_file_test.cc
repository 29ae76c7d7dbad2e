// --models_file through gRPC: a catalog file replaces the built-in one (a new dated snapshot is
// one entry and a restart), ListModels shows inputs, regions and default limits, and a malformed
// file stops the start naming the problem.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/dashscope/catalog.h"
#include "tests/integration/gateway_fixture.h"

namespace qwenimage::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

class ModelsFileTest : public GatewayFixture {
 protected:
  // The shipped catalog as JSON, to edit.
  static Json Shipped() {
    return Json::parse(std::string(dashscope::ModelCatalog::EmbeddedJson()));
  }

  std::string Write(const Json& file) {
    const std::string path = data_dir_ + ".models.json";
    std::ofstream(path) << file.dump(2);
    return path;
  }

  std::map<std::string, v1::Model> ListModels() {
    v1::ListModelsResponse resp;
    grpc::Status s = stub_->ListModels(Context().get(), v1::ListModelsRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, v1::Model> by_name;
    for (const v1::Model& m : resp.models()) by_name[m.name()] = m;
    return by_name;
  }
};

TEST_F(ModelsFileTest, ListModelsShowsInputsRegionsAndDefaultLimits) {
  StartGateway();
  std::map<std::string, v1::Model> models = ListModels();
  ASSERT_EQ(models.size(), dashscope::ModelCatalog::Default().models().size());
  const v1::Model& plus = models["qwen-image-plus"];
  EXPECT_EQ(plus.min_input_images(), 0);
  EXPECT_EQ(plus.max_input_images(), 0);
  EXPECT_THAT(plus.regions(), ElementsAre("singapore", "beijing"));
  EXPECT_EQ(plus.default_max_running_tasks(), 2);
  EXPECT_EQ(plus.default_submits_per_second(), 2.0);
  const v1::Model& max = models["qwen-image-max"];
  EXPECT_THAT(max.regions(), ElementsAre("singapore", "beijing"));
  EXPECT_EQ(max.default_max_running_tasks(), 0);  // not documented
  EXPECT_EQ(max.default_submits_per_second(), 0.0);
}

TEST_F(ModelsFileTest, AnExtraSnapshotEntryIsListedAndAccepted) {
  Json file = Shipped();
  Json snapshot;
  for (const Json& m : file["models"]) {
    if (m["name"] == "qwen-image-2.0-pro") snapshot = m;
  }
  ASSERT_TRUE(snapshot.is_object());
  snapshot["name"] = "qwen-image-2.0-pro-2099-01-01";
  snapshot["snapshot_of"] = "qwen-image-2.0-pro";
  snapshot["regions"] = {"singapore"};
  file["models"].push_back(snapshot);
  options_.models_file = Write(file);
  StartGateway();

  std::map<std::string, v1::Model> models = ListModels();
  ASSERT_TRUE(models.count("qwen-image-2.0-pro-2099-01-01"));
  const v1::Model& listed = models["qwen-image-2.0-pro-2099-01-01"];
  EXPECT_EQ(listed.snapshot_of(), "qwen-image-2.0-pro");
  EXPECT_EQ(listed.upstream_mode(), v1::UPSTREAM_MODE_SYNC);
  EXPECT_EQ(listed.max_n(), 6);
  EXPECT_THAT(listed.regions(), ElementsAre("singapore"));
  EXPECT_TRUE(models.count("qwen-image-plus"));  // the shipped entries stay

  v1::CreateTaskRequest req;
  *req.mutable_spec() = Spec("qwen-image-2.0-pro-2099-01-01", "a cat", 2, "1024*1024");
  v1::Task task;
  grpc::Status s = stub_->CreateTask(Context().get(), req, &task);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(task.spec().model(), "qwen-image-2.0-pro-2099-01-01");
  EXPECT_EQ(task.upstream_mode(), v1::UPSTREAM_MODE_SYNC);
  // Its rules are the entry's: n past max_n is refused before anything goes upstream.
  *req.mutable_spec() = Spec("qwen-image-2.0-pro-2099-01-01", "a cat", 7);
  s = stub_->CreateTask(Context().get(), req, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), Contains("spec.n")) << s.error_message();
}

TEST_F(ModelsFileTest, AModelLeftOutOfTheFileIsRefused) {
  Json file = Shipped();
  Json kept = Json::array();
  for (const Json& m : file["models"]) {
    if (m["name"] != "qwen-image-max-2025-12-30") kept.push_back(m);
  }
  file["models"] = kept;
  options_.models_file = Write(file);
  StartGateway();
  EXPECT_FALSE(ListModels().count("qwen-image-max-2025-12-30"));
  v1::CreateTaskRequest req;
  *req.mutable_spec() = Spec("qwen-image-max-2025-12-30");
  v1::Task task;
  grpc::Status s = stub_->CreateTask(Context().get(), req, &task);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), Contains("spec.model")) << s.error_message();
}

TEST_F(ModelsFileTest, AMalformedFileFailsStartNamingTheEntryAndField) {
  Json file = Shipped();
  file["models"][3]["max_n"] = 0;
  ASSERT_EQ(file["models"][3]["name"], "qwen-image-max");
  options_.models_file = Write(file);
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  ASSERT_FALSE(gw.ok());
  EXPECT_EQ(gw.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gw.status().message(),
            "models file " + options_.models_file +
                ": models[3] (\"qwen-image-max\"): \"max_n\" must be an integer >= min_n");
}

TEST_F(ModelsFileTest, AMissingFileFailsStart) {
  options_.models_file = data_dir_ + ".no-such-models.json";
  absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
  ASSERT_FALSE(gw.ok());
  EXPECT_THAT(gw.status().message(), HasSubstr(options_.models_file));
}

}  // namespace
}  // namespace qwenimage::testing
