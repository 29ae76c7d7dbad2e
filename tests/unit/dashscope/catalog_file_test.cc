// The catalog file: the shipped models.json is the built-in catalog and holds what the compiled-in
// list had; every malformed-file rule is an error naming the entry and the field.
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/dashscope/catalog.h"

namespace qwenimage::dashscope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Every field, so that a new one is compared too once added here.
void ExpectSameModel(const ModelInfo& got, const ModelInfo& want) {
  SCOPED_TRACE(want.name);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.snapshot_of, want.snapshot_of);
  EXPECT_EQ(got.mode, want.mode);
  EXPECT_EQ(got.sizes, want.sizes);
  EXPECT_EQ(got.min_pixels, want.min_pixels);
  EXPECT_EQ(got.max_pixels, want.max_pixels);
  EXPECT_EQ(got.min_side, want.min_side);
  EXPECT_EQ(got.max_side, want.max_side);
  EXPECT_EQ(got.size_from_inputs, want.size_from_inputs);
  EXPECT_EQ(got.default_size, want.default_size);
  EXPECT_EQ(got.min_n, want.min_n);
  EXPECT_EQ(got.max_n, want.max_n);
  EXPECT_EQ(got.max_prompt_chars, want.max_prompt_chars);
  EXPECT_EQ(got.max_negative_prompt_chars, want.max_negative_prompt_chars);
  EXPECT_EQ(got.max_seed, want.max_seed);
  EXPECT_EQ(got.default_prompt_extend, want.default_prompt_extend);
  EXPECT_EQ(got.default_watermark, want.default_watermark);
  EXPECT_EQ(got.min_input_images, want.min_input_images);
  EXPECT_EQ(got.max_input_images, want.max_input_images);
  EXPECT_EQ(got.regions, want.regions);
  EXPECT_EQ(got.default_limits, want.default_limits);
}

// What the compiled-in C++ list had for each kind of model.
ModelInfo OldFixedSize(std::string name, std::string snapshot_of, UpstreamMode mode) {
  ModelInfo m;
  m.name = std::move(name);
  m.snapshot_of = std::move(snapshot_of);
  m.mode = mode;
  m.sizes = {"1664*928", "1472*1104", "1328*1328", "1104*1472",
             "928*1664", "1472*1140", "1140*1472"};
  m.default_size = "1664*928";
  m.regions = {"singapore", "beijing"};
  return m;
}
ModelInfo OldPixelRange(std::string name, std::string snapshot_of) {
  ModelInfo m;
  m.name = std::move(name);
  m.snapshot_of = std::move(snapshot_of);
  m.mode = UpstreamMode::kSync;
  m.min_pixels = 512 * 512;
  m.max_pixels = 2048 * 2048;
  m.default_size = "2048*2048";
  m.max_n = 6;
  m.max_input_images = 3;  // generation without inputs, editing with 1..3 (§9)
  m.regions = {"singapore", "beijing"};
  return m;
}
// The edit models (§9): n 1..6 and each side 512..2048, or (qwen-image-edit) one input, n = 1
// and no size at all.
ModelInfo EditModel(std::string name, std::string snapshot_of) {
  ModelInfo m;
  m.name = std::move(name);
  m.snapshot_of = std::move(snapshot_of);
  m.mode = UpstreamMode::kSync;
  m.min_side = 512;
  m.max_side = 2048;
  m.max_n = 6;
  m.min_input_images = 1;
  m.max_input_images = 3;
  m.regions = {"singapore", "beijing"};
  return m;
}

TEST(CatalogFileTest, TheBuiltInCatalogIsTheShippedFile) {
  const std::string shipped = ReadFile(QWENIMAGE_MODELS_JSON);
  ASSERT_FALSE(shipped.empty());
  EXPECT_EQ(ModelCatalog::EmbeddedJson(), shipped);
  absl::StatusOr<ModelCatalog> loaded = ModelCatalog::LoadFile(QWENIMAGE_MODELS_JSON);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<ModelInfo>& builtin = ModelCatalog::Default().models();
  ASSERT_EQ(loaded->models().size(), builtin.size());
  for (size_t i = 0; i < builtin.size(); ++i) ExpectSameModel(loaded->models()[i], builtin[i]);
}

// The compiled-in C++ list the file replaced (with the 2.0 models' input range), then the edit
// models added with editing.
TEST(CatalogFileTest, ShippedFileHoldsEveryModel) {
  using M = UpstreamMode;
  ModelInfo qwen_image = OldFixedSize("qwen-image", "", M::kAsync);
  qwen_image.default_limits = AccountLimits{2, 2};
  ModelInfo plus = OldFixedSize("qwen-image-plus", "", M::kAsync);
  plus.default_limits = AccountLimits{2, 2};
  std::vector<ModelInfo> old_list = {
      qwen_image,
      plus,
      OldFixedSize("qwen-image-plus-2026-01-09", "qwen-image-plus", M::kSync),
      OldFixedSize("qwen-image-max", "", M::kSync),
      OldFixedSize("qwen-image-max-2025-12-30", "qwen-image-max", M::kSync),
      OldPixelRange("qwen-image-2.0", ""),
      OldPixelRange("qwen-image-2.0-2026-03-03", "qwen-image-2.0"),
      OldPixelRange("qwen-image-2.0-pro", ""),
      OldPixelRange("qwen-image-2.0-pro-2026-04-22", "qwen-image-2.0-pro"),
      OldPixelRange("qwen-image-2.0-pro-2026-03-03", "qwen-image-2.0-pro"),
  };
  ModelInfo edit_v1 = EditModel("qwen-image-edit", "");
  edit_v1.min_side = edit_v1.max_side = 0;
  edit_v1.size_from_inputs = true;
  edit_v1.max_n = 1;
  edit_v1.max_input_images = 1;
  old_list.insert(old_list.end(),
                  {edit_v1, EditModel("qwen-image-edit-plus", ""),
                   EditModel("qwen-image-edit-plus-2025-12-15", "qwen-image-edit-plus"),
                   EditModel("qwen-image-edit-max", "")});
  const ModelCatalog& catalog = ModelCatalog::Default();
  ASSERT_EQ(catalog.models().size(), old_list.size());
  for (size_t i = 0; i < old_list.size(); ++i) ExpectSameModel(catalog.models()[i], old_list[i]);
}

// Literal values, not built by the helpers above: an async model, a sync model and two
// snapshots (a fixed-size one and a pixel-range one).
TEST(CatalogFileTest, ShippedFileLiteralValues) {
  const ModelCatalog& catalog = ModelCatalog::Default();
  const ModelInfo* async = catalog.Find("qwen-image");
  ASSERT_NE(async, nullptr);
  EXPECT_EQ(async->snapshot_of, "");
  EXPECT_EQ(async->mode, UpstreamMode::kAsync);
  EXPECT_THAT(async->sizes, ElementsAre("1664*928", "1472*1104", "1328*1328", "1104*1472",
                                        "928*1664", "1472*1140", "1140*1472"));
  EXPECT_EQ(async->min_pixels, 0);
  EXPECT_EQ(async->max_pixels, 0);
  EXPECT_EQ(async->default_size, "1664*928");
  EXPECT_EQ(async->min_n, 1);
  EXPECT_EQ(async->max_n, 1);
  EXPECT_EQ(async->max_prompt_chars, 800);
  EXPECT_EQ(async->max_negative_prompt_chars, 500);
  EXPECT_EQ(async->max_seed, 2147483647);
  EXPECT_TRUE(async->default_prompt_extend);
  EXPECT_FALSE(async->default_watermark);
  EXPECT_EQ(async->min_input_images, 0);
  EXPECT_EQ(async->max_input_images, 0);
  EXPECT_THAT(async->regions, ElementsAre("singapore", "beijing"));
  ASSERT_TRUE(async->default_limits.has_value());
  EXPECT_EQ(async->default_limits->max_running, 2);
  EXPECT_EQ(async->default_limits->submits_per_second, 2.0);

  const ModelInfo* sync = catalog.Find("qwen-image-max");
  ASSERT_NE(sync, nullptr);
  EXPECT_EQ(sync->snapshot_of, "");
  EXPECT_EQ(sync->mode, UpstreamMode::kSync);
  EXPECT_EQ(sync->sizes.size(), 7u);
  EXPECT_EQ(sync->default_size, "1664*928");
  EXPECT_EQ(sync->max_n, 1);
  EXPECT_FALSE(sync->default_limits.has_value());  // not documented (dashscope-api.md §7)

  const ModelInfo* fixed_snapshot = catalog.Find("qwen-image-plus-2026-01-09");
  ASSERT_NE(fixed_snapshot, nullptr);
  EXPECT_EQ(fixed_snapshot->snapshot_of, "qwen-image-plus");
  EXPECT_EQ(fixed_snapshot->mode, UpstreamMode::kSync);  // async create unknown for it
  EXPECT_FALSE(fixed_snapshot->default_limits.has_value());

  const ModelInfo* snapshot = catalog.Find("qwen-image-2.0-pro-2026-04-22");
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->snapshot_of, "qwen-image-2.0-pro");
  EXPECT_EQ(snapshot->mode, UpstreamMode::kSync);
  EXPECT_TRUE(snapshot->sizes.empty());
  EXPECT_EQ(snapshot->min_pixels, 262144);
  EXPECT_EQ(snapshot->max_pixels, 4194304);
  EXPECT_EQ(snapshot->default_size, "2048*2048");
  EXPECT_EQ(snapshot->min_n, 1);
  EXPECT_EQ(snapshot->max_n, 6);
  EXPECT_EQ(snapshot->max_prompt_chars, 800);
  EXPECT_EQ(snapshot->max_negative_prompt_chars, 500);
  EXPECT_EQ(snapshot->max_seed, 2147483647);
  EXPECT_TRUE(snapshot->default_prompt_extend);
  EXPECT_FALSE(snapshot->default_watermark);
  EXPECT_EQ(snapshot->min_input_images, 0);
  EXPECT_EQ(snapshot->max_input_images, 3);
  EXPECT_THAT(snapshot->regions, ElementsAre("singapore", "beijing"));
  EXPECT_FALSE(snapshot->default_limits.has_value());
}

// A valid two-model file: "base" (fixed sizes) and "snap" (pixel range, a snapshot of base).
Json ValidFile() {
  return Json::parse(R"({
    "description": "test catalog",
    "models": [
      {"name": "base", "upstream_mode": "async", "sizes": ["1024*1024", "512*768"],
       "default_size": "1024*1024", "min_n": 1, "max_n": 1, "max_prompt_chars": 800,
       "max_negative_prompt_chars": 500, "max_seed": 2147483647, "default_prompt_extend": true,
       "default_watermark": false, "min_input_images": 0, "max_input_images": 0,
       "regions": ["singapore"], "default_limits": {"max_running": 3, "submits_per_second": 0.5},
       "notes": "a note"},
      {"name": "snap", "snapshot_of": "base", "upstream_mode": "sync", "min_pixels": 1000,
       "max_pixels": 5000000, "default_size": "2048*2048", "min_n": 1, "max_n": 6,
       "max_prompt_chars": 800, "max_negative_prompt_chars": 500, "max_seed": 100,
       "default_prompt_extend": false, "default_watermark": true, "min_input_images": 1,
       "max_input_images": 3, "regions": ["singapore", "beijing"]}
    ]})");
}

// Parse() of ValidFile() after `edit` fails with exactly `message`.
void ExpectError(const std::function<void(Json&)>& edit, const std::string& message) {
  Json file = ValidFile();
  edit(file);
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse(file.dump());
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.status().message(), message);
}

Json& Base(Json& f) { return f["models"][0]; }
Json& Snap(Json& f) { return f["models"][1]; }

TEST(CatalogFileTest, ValidFileParses) {
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse(ValidFile().dump());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const ModelInfo* snap = catalog->Find("snap");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->snapshot_of, "base");
  EXPECT_EQ(snap->max_seed, 100);
  EXPECT_FALSE(snap->default_prompt_extend);
  EXPECT_TRUE(snap->default_watermark);
  EXPECT_EQ(snap->min_input_images, 1);
  EXPECT_EQ(snap->max_input_images, 3);
  EXPECT_FALSE(snap->default_limits.has_value());
  EXPECT_EQ(catalog->Find("base")->default_limits, (AccountLimits{3, 0.5}));
}

TEST(CatalogFileTest, NotJson) {
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse("{\"models\": [");
  ASSERT_FALSE(catalog.ok());
  EXPECT_THAT(catalog.status().message(), HasSubstr("not valid JSON"));
}

TEST(CatalogFileTest, TopLevelMustBeAnObject) {
  EXPECT_EQ(ModelCatalog::Parse("[]").status().message(),
            "must be a JSON object {\"models\": [...]}");
}

TEST(CatalogFileTest, UnknownTopLevelKey) {
  ExpectError([](Json& f) { f["modles"] = Json::array(); }, "\"modles\" is not a known key");
}

TEST(CatalogFileTest, EmptyModelList) {
  ExpectError([](Json& f) { f["models"] = Json::array(); }, "\"models\" must be a non-empty list");
  ExpectError([](Json& f) { f.erase("models"); }, "\"models\" must be a non-empty list");
}

TEST(CatalogFileTest, EntryMustBeAnObject) {
  ExpectError([](Json& f) { f["models"][1] = "snap"; }, "models[1]: must be an object");
}

TEST(CatalogFileTest, UnknownKeyInAnEntry) {
  ExpectError([](Json& f) { Snap(f)["max_images"] = 3; },
              "models[1] (\"snap\"): \"max_images\" is not a known key");
}

TEST(CatalogFileTest, NameRequired) {
  ExpectError([](Json& f) { Snap(f).erase("name"); }, "models[1]: \"name\" is required");
  ExpectError([](Json& f) { Snap(f)["name"] = ""; },
              "models[1]: \"name\" must be a non-empty string");
}

TEST(CatalogFileTest, DuplicateNames) {
  ExpectError(
      [](Json& f) {
        Snap(f)["name"] = "base";
        Snap(f).erase("snapshot_of");
      },
      "models[1] (\"base\"): \"name\" duplicates models[0]");
}

TEST(CatalogFileTest, SnapshotOfAnUnknownModel) {
  ExpectError([](Json& f) { Snap(f)["snapshot_of"] = "nope"; },
              "models[1] (\"snap\"): \"snapshot_of\" names no other model of the catalog "
              "(\"nope\")");
  ExpectError([](Json& f) { Snap(f)["snapshot_of"] = "snap"; },
              "models[1] (\"snap\"): \"snapshot_of\" names no other model of the catalog "
              "(\"snap\")");
}

TEST(CatalogFileTest, SnapshotOfAModelListedLaterIsFine) {
  Json file = ValidFile();
  std::swap(file["models"][0], file["models"][1]);
  EXPECT_TRUE(ModelCatalog::Parse(file.dump()).ok());
}

TEST(CatalogFileTest, UpstreamMode) {
  ExpectError([](Json& f) { Base(f)["upstream_mode"] = "batch"; },
              "models[0] (\"base\"): \"upstream_mode\" must be \"sync\" or \"async\"");
}

TEST(CatalogFileTest, SizesMustBeWTimesH) {
  ExpectError([](Json& f) { Base(f)["sizes"][1] = "512x768"; },
              "models[0] (\"base\"): \"sizes\" must be \"W*H\" with positive integers and an "
              "asterisk, e.g. 1664*928 (got \"512x768\")");
  ExpectError([](Json& f) { Base(f)["sizes"][1] = "0512*768"; },
              "models[0] (\"base\"): \"sizes\" must be \"W*H\" without leading zeros (got "
              "\"0512*768\")");
  ExpectError([](Json& f) { Base(f)["sizes"] = Json::array(); },
              "models[0] (\"base\"): \"sizes\" must be a non-empty list of strings");
  ExpectError([](Json& f) { Base(f)["sizes"][1] = "1024*1024"; },
              "models[0] (\"base\"): \"sizes\" lists 1024*1024 twice");
}

TEST(CatalogFileTest, DefaultSizeMustBeAnAcceptedSize) {
  ExpectError([](Json& f) { Base(f)["default_size"] = "1024x1024"; },
              "models[0] (\"base\"): \"default_size\" must be \"W*H\" with positive integers "
              "and an asterisk, e.g. 1664*928 (got \"1024x1024\")");
  ExpectError([](Json& f) { Base(f)["default_size"] = "768*512"; },
              "models[0] (\"base\"): \"default_size\" must be one of \"sizes\"");
  ExpectError([](Json& f) { Snap(f)["default_size"] = "4096*4096"; },
              "models[1] (\"snap\"): \"default_size\" must lie within min_pixels..max_pixels");
}

TEST(CatalogFileTest, SizesOrPixelRangeNotBoth) {
  ExpectError([](Json& f) { Base(f)["min_pixels"] = 1; },
              "models[0] (\"base\"): exactly one of \"sizes\", \"min_pixels\"/\"max_pixels\", "
              "\"min_side\"/\"max_side\" or \"size_from_inputs\": true must be given");
  ExpectError(
      [](Json& f) {
        Snap(f).erase("min_pixels");
        Snap(f).erase("max_pixels");
      },
      "models[1] (\"snap\"): exactly one of \"sizes\", \"min_pixels\"/\"max_pixels\", "
      "\"min_side\"/\"max_side\" or \"size_from_inputs\": true must be given");
}

TEST(CatalogFileTest, PixelRange) {
  ExpectError([](Json& f) { Snap(f)["min_pixels"] = 0; },
              "models[1] (\"snap\"): \"min_pixels\" must be an integer >= 1");
  ExpectError([](Json& f) { Snap(f)["max_pixels"] = 999; },
              "models[1] (\"snap\"): \"max_pixels\" must be an integer >= min_pixels");
}

TEST(CatalogFileTest, NRange) {
  ExpectError([](Json& f) { Snap(f)["min_n"] = 0; },
              "models[1] (\"snap\"): \"min_n\" must be an integer >= 1");
  ExpectError(
      [](Json& f) {
        Snap(f)["min_n"] = 2;
        Snap(f)["max_n"] = 1;
      },
      "models[1] (\"snap\"): \"max_n\" must be an integer >= min_n");
  ExpectError([](Json& f) { Snap(f)["max_n"] = 1.5; },
              "models[1] (\"snap\"): \"max_n\" must be an integer >= min_n");
  ExpectError([](Json& f) { Snap(f)["max_n"] = "6"; },
              "models[1] (\"snap\"): \"max_n\" must be an integer >= min_n");
}

TEST(CatalogFileTest, PromptLimits) {
  ExpectError([](Json& f) { Base(f)["max_prompt_chars"] = 0; },
              "models[0] (\"base\"): \"max_prompt_chars\" must be an integer >= 1");
  ExpectError([](Json& f) { Base(f)["max_negative_prompt_chars"] = -1; },
              "models[0] (\"base\"): \"max_negative_prompt_chars\" must be an integer >= 0");
  ExpectError([](Json& f) { Base(f)["max_prompt_chars"] = 3000000000LL; },
              "models[0] (\"base\"): \"max_prompt_chars\" must be an integer >= 1");
}

TEST(CatalogFileTest, MaxSeed) {
  ExpectError([](Json& f) { Base(f)["max_seed"] = -1; },
              "models[0] (\"base\"): \"max_seed\" must be an integer >= 0");
}

TEST(CatalogFileTest, DefaultsAreBooleans) {
  ExpectError([](Json& f) { Base(f)["default_watermark"] = 0; },
              "models[0] (\"base\"): \"default_watermark\" must be true or false");
  ExpectError([](Json& f) { Base(f).erase("default_prompt_extend"); },
              "models[0] (\"base\"): \"default_prompt_extend\" is required");
}

TEST(CatalogFileTest, SideRange) {
  Json file = ValidFile();
  Snap(file).erase("min_pixels");
  Snap(file).erase("max_pixels");
  Snap(file).erase("default_size");
  Snap(file)["min_side"] = 512;
  Snap(file)["max_side"] = 2048;
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse(file.dump());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->Find("snap")->min_side, 512);
  EXPECT_EQ(catalog->Find("snap")->max_side, 2048);
  EXPECT_EQ(catalog->Find("snap")->default_size, "");  // an edit-only model needs none

  auto sides = [](Json& f) {
    Snap(f).erase("min_pixels");
    Snap(f).erase("max_pixels");
    Snap(f)["min_side"] = 512;
    Snap(f)["max_side"] = 2048;
  };
  ExpectError(
      [&](Json& f) {
        sides(f);
        Snap(f)["max_side"] = 100;
      },
      "models[1] (\"snap\"): \"max_side\" must be an integer >= min_side");
  ExpectError(
      [&](Json& f) {
        sides(f);
        Snap(f)["default_size"] = "4096*1024";
      },
      "models[1] (\"snap\"): \"default_size\" must have each side within min_side..max_side");
  ExpectError(
      [&](Json& f) {
        sides(f);
        Snap(f)["min_pixels"] = 1;
      },
      "models[1] (\"snap\"): exactly one of \"sizes\", \"min_pixels\"/\"max_pixels\", "
      "\"min_side\"/\"max_side\" or \"size_from_inputs\": true must be given");
}

TEST(CatalogFileTest, SizeFromInputs) {
  auto from_inputs = [](Json& f) {
    Snap(f).erase("min_pixels");
    Snap(f).erase("max_pixels");
    Snap(f).erase("default_size");
    Snap(f)["size_from_inputs"] = true;
  };
  Json file = ValidFile();
  from_inputs(file);
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse(file.dump());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_TRUE(catalog->Find("snap")->size_from_inputs);
  ExpectError(
      [&](Json& f) {
        from_inputs(f);
        Snap(f)["default_size"] = "1024*1024";
      },
      "models[1] (\"snap\"): \"default_size\" must not be given with \"size_from_inputs\"");
  ExpectError(
      [&](Json& f) {
        from_inputs(f);
        Snap(f)["min_input_images"] = 0;
      },
      "models[1] (\"snap\"): \"size_from_inputs\" needs \"min_input_images\" >= 1");
  ExpectError(
      [&](Json& f) {
        from_inputs(f);
        Snap(f)["size_from_inputs"] = "yes";
      },
      "models[1] (\"snap\"): \"size_from_inputs\" must be true or false");
}

TEST(CatalogFileTest, DefaultSizeRequiredForAModelThatGeneratesWithoutInputs) {
  ExpectError(
      [](Json& f) {
        Snap(f).erase("default_size");
        Snap(f)["min_input_images"] = 0;
      },
      "models[1] (\"snap\"): \"default_size\" is required for a model that generates without "
      "input images");
}

TEST(CatalogFileTest, AnAsyncModelTakesNoInputImages) {
  ExpectError([](Json& f) { Base(f)["max_input_images"] = 1; },
              "models[0] (\"base\"): \"max_input_images\" must be 0 for an async model (the "
              "async create endpoint takes no images)");
}

TEST(CatalogFileTest, InputImageRange) {
  ExpectError([](Json& f) { Snap(f)["min_input_images"] = -1; },
              "models[1] (\"snap\"): \"min_input_images\" must be an integer >= 0");
  ExpectError([](Json& f) { Snap(f)["max_input_images"] = 0; },
              "models[1] (\"snap\"): \"max_input_images\" must be an integer >= "
              "min_input_images");
}

TEST(CatalogFileTest, Regions) {
  ExpectError([](Json& f) { Base(f)["regions"] = Json::array(); },
              "models[0] (\"base\"): \"regions\" must be a non-empty list of strings");
  ExpectError(
      [](Json& f) {
        Base(f)["regions"] = {"singapore", "frankfurt"};
      },
      "models[0] (\"base\"): \"regions\" has \"frankfurt\"; known regions: beijing, "
      "singapore");
}

TEST(CatalogFileTest, DefaultLimits) {
  ExpectError([](Json& f) { Base(f)["default_limits"]["max_running"] = 0; },
              "models[0] (\"base\"): \"default_limits.max_running\" must be an integer >= 1");
  ExpectError([](Json& f) { Base(f)["default_limits"]["submits_per_second"] = 0; },
              "models[0] (\"base\"): \"default_limits.submits_per_second\" must be a number > 0");
  ExpectError([](Json& f) { Base(f)["default_limits"]["burst"] = 1; },
              "models[0] (\"base\"): \"default_limits\" has an unknown key \"burst\"");
  ExpectError([](Json& f) { Base(f)["default_limits"] = 2; },
              "models[0] (\"base\"): \"default_limits\" must be an object {\"max_running\", "
              "\"submits_per_second\"}");
}

TEST(CatalogFileTest, NotesMustBeText) {
  ExpectError([](Json& f) { Base(f)["notes"] = 1; },
              "models[0] (\"base\"): \"notes\" must be a string");
}

TEST(CatalogFileTest, LoadFileNamesThePath) {
  const std::string path = ::testing::TempDir() + "/bad_models.json";
  {
    Json file = ValidFile();
    Snap(file)["max_n"] = 0;
    std::ofstream(path) << file.dump();
  }
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::LoadFile(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(
      catalog.status().message(),
      "models file " + path + ": models[1] (\"snap\"): \"max_n\" must be an integer >= min_n");
  std::remove(path.c_str());
  catalog = ModelCatalog::LoadFile(path);
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
}

// A model that edits only (min_input_images > 0) refuses a request without input images, so an
// edit model in the catalog never serves generation requests by accident.
TEST(CatalogFileTest, ValidateChecksTheInputImageCount) {
  absl::StatusOr<ModelCatalog> catalog = ModelCatalog::Parse(ValidFile().dump());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  GenerationInput in;
  in.model = "snap";
  in.prompt = "a cat";
  std::vector<Violation> v = Validate(*catalog, in);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "input_images");
  EXPECT_EQ(v[0].description, "must be within 1..3 for snap (has 0)");
  in.input_images = 3;
  EXPECT_TRUE(Validate(*catalog, in).empty());
  in.input_images = 4;
  ASSERT_EQ(Validate(*catalog, in).size(), 1u);
  in.model = "base";
  in.input_images = 1;
  v = Validate(*catalog, in);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "input_images");
  EXPECT_EQ(v[0].description, "are not accepted by base (has 1)");
  in.input_images = 0;
  EXPECT_TRUE(Validate(*catalog, in).empty());
}

}  // namespace
}  // namespace qwenimage::dashscope
