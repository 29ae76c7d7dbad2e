#include "service/dashscope/catalog.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage::dashscope {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

GenerationInput Input(std::string model) {
  GenerationInput in;
  in.model = std::move(model);
  in.prompt = "a lighthouse at dawn";
  return in;
}

std::vector<std::string> Fields(const std::vector<Violation>& violations) {
  std::vector<std::string> fields;
  for (const auto& v : violations) fields.push_back(v.field);
  return fields;
}

const ModelCatalog& Catalog() { return ModelCatalog::Default(); }

TEST(CatalogTest, EveryReferenceModelWithItsMode) {
  const std::vector<std::pair<std::string, UpstreamMode>> expected = {
      {"qwen-image", UpstreamMode::kAsync},
      {"qwen-image-plus", UpstreamMode::kAsync},
      {"qwen-image-plus-2026-01-09", UpstreamMode::kSync},
      {"qwen-image-max", UpstreamMode::kSync},
      {"qwen-image-max-2025-12-30", UpstreamMode::kSync},
      {"qwen-image-2.0", UpstreamMode::kSync},
      {"qwen-image-2.0-2026-03-03", UpstreamMode::kSync},
      {"qwen-image-2.0-pro", UpstreamMode::kSync},
      {"qwen-image-2.0-pro-2026-04-22", UpstreamMode::kSync},
      {"qwen-image-2.0-pro-2026-03-03", UpstreamMode::kSync},
      {"qwen-image-edit", UpstreamMode::kSync},
      {"qwen-image-edit-plus", UpstreamMode::kSync},
      {"qwen-image-edit-plus-2025-12-15", UpstreamMode::kSync},
      {"qwen-image-edit-max", UpstreamMode::kSync},
  };
  EXPECT_EQ(Catalog().models().size(), expected.size());
  for (const auto& [name, mode] : expected) {
    const ModelInfo* m = Catalog().Find(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->mode, mode) << name;
    EXPECT_EQ(m->max_prompt_chars, 800) << name;
    EXPECT_EQ(m->max_negative_prompt_chars, 500) << name;
    EXPECT_EQ(m->max_seed, 2147483647) << name;
  }
  EXPECT_EQ(Catalog().Find("qwen-image-max-2025-12-30")->snapshot_of, "qwen-image-max");
  EXPECT_EQ(Catalog().Find("wanx-v1"), nullptr);
}

TEST(CatalogTest, FixedSizeModels) {
  const ModelInfo* m = Catalog().Find("qwen-image-plus");
  EXPECT_EQ(m->default_size, "1664*928");
  EXPECT_EQ(m->max_n, 1);
  EXPECT_THAT(m->sizes, testing::IsSupersetOf({"1664*928", "1472*1104", "1328*1328", "1104*1472",
                                               "928*1664", "1472*1140", "1140*1472"}));
}

TEST(CatalogTest, PixelRangeModels) {
  const ModelInfo* m = Catalog().Find("qwen-image-2.0-pro");
  EXPECT_THAT(m->sizes, IsEmpty());
  EXPECT_EQ(m->min_pixels, 262144);
  EXPECT_EQ(m->max_pixels, 4194304);
  EXPECT_EQ(m->default_size, "2048*2048");
  EXPECT_EQ(m->min_n, 1);
  EXPECT_EQ(m->max_n, 6);
}

TEST(ParseSizeTest, Formats) {
  auto s = ParseSize("1664*928");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->width, 1664);
  EXPECT_EQ(s->height, 928);
  for (const char* bad : {"1664x928", "1664X928", "1664*", "*928", "0*928", "-1*928", "+1*928",
                          "1664*928*1", " 1664*928", "1664 * 928", "99999999999*1", ""}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
}

TEST(ValidateTest, ValidDefaults) {
  for (const ModelInfo& m : Catalog().models()) {
    GenerationInput in = Input(m.name);
    in.input_images = m.min_input_images;  // an edit model needs its inputs
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << m.name;
  }
}

TEST(ValidateTest, UnknownModel) {
  EXPECT_THAT(Fields(Validate(Catalog(), Input("qwen-image-9"))), ElementsAre("model"));
  EXPECT_THAT(Fields(Validate(Catalog(), Input(""))), ElementsAre("model"));
}

TEST(ValidateTest, Prompt) {
  GenerationInput in = Input("qwen-image-plus");
  in.prompt = "";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("prompt"));
  in.prompt = "  \n";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("prompt"));
  // 800 CJK characters (2400 bytes) are within the limit: code points are counted, not bytes.
  in.prompt.clear();
  for (int i = 0; i < 800; ++i) in.prompt += "雪";
  EXPECT_THAT(Validate(Catalog(), in), IsEmpty());
  in.prompt += "a";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("prompt"));
  GenerationInput two = Input("qwen-image-2.0");
  two.prompt = std::string(801, 'a');
  EXPECT_THAT(Fields(Validate(Catalog(), two)), ElementsAre("prompt"));
}

TEST(ValidateTest, InvalidUtf8) {
  for (const char* bad : {"\xff", "abc\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    GenerationInput in = Input("qwen-image");
    in.prompt = bad;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("prompt")) << bad;
    in = Input("qwen-image");
    in.negative_prompt = bad;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("negative_prompt")) << bad;
  }
  GenerationInput ok = Input("qwen-image");
  ok.prompt = "emoji \xf0\x9f\x90\xb1 ok";
  EXPECT_THAT(Validate(Catalog(), ok), IsEmpty());
}

TEST(ValidateTest, NegativePrompt) {
  GenerationInput in = Input("qwen-image-max");
  in.negative_prompt = std::string(500, 'n');
  EXPECT_THAT(Validate(Catalog(), in), IsEmpty());
  in.negative_prompt += "n";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("negative_prompt"));
}

TEST(ValidateTest, FixedSizes) {
  GenerationInput in = Input("qwen-image-max");
  for (const char* ok : {"1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664",
                         "1472*1140", "1140*1472"}) {
    in.size = ok;
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << ok;
  }
  for (const char* bad : {"1024*1024", "2048*2048", "1664x928", "928*1664 "}) {
    in.size = bad;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("size")) << bad;
  }
}

TEST(ValidateTest, PixelRangeSizes) {
  GenerationInput in = Input("qwen-image-2.0-pro-2026-04-22");
  for (const char* ok : {"512*512", "2048*2048", "2688*1536", "1536*2688", "2368*1728",
                         "1024*1536", "1000*1000"}) {
    in.size = ok;
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << ok;
  }
  for (const char* bad : {"511*512", "2048*2049", "4096*4096", "2048x2048"}) {
    in.size = bad;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("size")) << bad;
  }
}

TEST(ValidateTest, N) {
  GenerationInput in = Input("qwen-image-plus");
  in.n = 1;
  EXPECT_THAT(Validate(Catalog(), in), IsEmpty());
  in.n = 2;
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("n"));
  GenerationInput two = Input("qwen-image-2.0");
  for (int n : {1, 6}) {
    two.n = n;
    EXPECT_THAT(Validate(Catalog(), two), IsEmpty()) << n;
  }
  for (int n : {-1, 7}) {
    two.n = n;
    EXPECT_THAT(Fields(Validate(Catalog(), two)), ElementsAre("n")) << n;
  }
}

TEST(ValidateTest, Seed) {
  GenerationInput in = Input("qwen-image");
  for (int64_t ok : {int64_t{0}, int64_t{2147483647}}) {
    in.seed = ok;
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << ok;
  }
  for (int64_t bad : {int64_t{-1}, int64_t{2147483648}}) {
    in.seed = bad;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("seed")) << bad;
  }
}

TEST(ValidateTest, ReportsEveryViolation) {
  GenerationInput in = Input("qwen-image-plus");
  in.prompt = "";
  in.negative_prompt = std::string(501, 'x');
  in.size = "1x1";
  in.n = 3;
  in.seed = -5;
  EXPECT_THAT(Fields(Validate(Catalog(), in)),
              UnorderedElementsAre("prompt", "negative_prompt", "size", "n", "seed"));
  for (const Violation& v : Validate(Catalog(), in)) EXPECT_FALSE(v.description.empty());
}

// Editing (dashscope-api.md §9): the 2.0 models take 0..3 inputs, the edit models 1..3
// (qwen-image-edit exactly 1), the older models none.
TEST(ValidateTest, InputImageCountPerModel) {
  struct Case {
    std::string model;
    int min, max;
  };
  for (const Case& c : std::vector<Case>{{"qwen-image-2.0", 0, 3},
                                         {"qwen-image-2.0-pro-2026-04-22", 0, 3},
                                         {"qwen-image-edit", 1, 1},
                                         {"qwen-image-edit-plus", 1, 3},
                                         {"qwen-image-edit-plus-2025-12-15", 1, 3},
                                         {"qwen-image-edit-max", 1, 3},
                                         {"qwen-image-max", 0, 0},
                                         {"qwen-image-plus", 0, 0}}) {
    for (int count = 0; count <= 4; ++count) {
      GenerationInput in = Input(c.model);
      in.input_images = count;
      const bool ok = count >= c.min && count <= c.max;
      EXPECT_THAT(Fields(Validate(Catalog(), in)),
                  ok ? std::vector<std::string>{} : std::vector<std::string>{"input_images"})
          << c.model << " with " << count;
    }
  }
}

TEST(ValidateTest, QwenImageEditTakesNoSizeAndOneImage) {
  GenerationInput in = Input("qwen-image-edit");
  in.input_images = 1;
  in.size = "1024*1024";
  std::vector<Violation> v = Validate(Catalog(), in);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "size");
  EXPECT_EQ(v[0].description,
            "must be empty for qwen-image-edit: its output follows the last input image");
  in.size.clear();
  in.n = 2;
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("n"));
}

TEST(ValidateTest, EditPlusSidesWithin512To2048) {
  GenerationInput in = Input("qwen-image-edit-plus");
  in.input_images = 2;
  for (const char* ok : {"512*512", "2048*2048", "512*2048", "1024*1536"}) {
    in.size = ok;
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << ok;
  }
  for (const char* bad : {"511*1024", "1024*2049", "256*4096", "4096*4096"}) {
    in.size = bad;
    std::vector<Violation> v = Validate(Catalog(), in);
    ASSERT_EQ(v.size(), 1u) << bad;
    EXPECT_EQ(v[0].field, "size");
    EXPECT_EQ(v[0].description,
              "width and height must each be within 512..2048 for qwen-image-edit-plus");
  }
}

TEST(ValidateTest, EditPlusAndMaxNWithin1To6) {
  for (const char* model : {"qwen-image-edit-plus", "qwen-image-edit-max"}) {
    GenerationInput in = Input(model);
    in.input_images = 1;
    in.n = 6;
    EXPECT_THAT(Validate(Catalog(), in), IsEmpty()) << model;
    in.n = 7;
    EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("n")) << model;
  }
}

TEST(ValidateTest, Qwen20EditKeepsThePixelRange) {
  GenerationInput in = Input("qwen-image-2.0");
  in.input_images = 3;
  in.size = "2048*2048";
  EXPECT_THAT(Validate(Catalog(), in), IsEmpty());
  in.size = "2049*2048";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("size"));
  in.size = "511*512";
  EXPECT_THAT(Fields(Validate(Catalog(), in)), ElementsAre("size"));
}

TEST(ResolveDefaultsTest, AnEditWithoutASizeSendsNone) {
  GenerationInput in = Input("qwen-image-2.0");
  in.input_images = 1;
  EXPECT_EQ(ResolveDefaults(*Catalog().Find("qwen-image-2.0"), in).size, "");
  in.input_images = 0;
  EXPECT_EQ(ResolveDefaults(*Catalog().Find("qwen-image-2.0"), in).size, "2048*2048");
  GenerationInput edit = Input("qwen-image-edit");
  edit.input_images = 1;
  const GenerationParams p = ResolveDefaults(*Catalog().Find("qwen-image-edit"), edit);
  EXPECT_EQ(p.size, "");
  EXPECT_EQ(p.n, 1);
}

TEST(ResolveDefaultsTest, FillsModelDefaults) {
  const ModelInfo& plus = *Catalog().Find("qwen-image-plus");
  GenerationParams p = ResolveDefaults(plus, Input("qwen-image-plus"));
  EXPECT_EQ(p.model, "qwen-image-plus");
  EXPECT_EQ(p.prompt, "a lighthouse at dawn");
  EXPECT_EQ(p.size, "1664*928");
  EXPECT_EQ(p.n, 1);
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_TRUE(p.prompt_extend);
  EXPECT_FALSE(p.watermark);

  const ModelInfo& two = *Catalog().Find("qwen-image-2.0");
  EXPECT_EQ(ResolveDefaults(two, Input("qwen-image-2.0")).size, "2048*2048");
}

TEST(ResolveDefaultsTest, KeepsExplicitValues) {
  const ModelInfo& two = *Catalog().Find("qwen-image-2.0-pro");
  GenerationInput in = Input("qwen-image-2.0-pro");
  in.size = "01024*1536";
  in.n = 4;
  in.seed = 7;
  in.prompt_extend = false;
  in.watermark = true;
  in.negative_prompt = "blur";
  GenerationParams p = ResolveDefaults(two, in);
  EXPECT_EQ(p.size, "1024*1536");
  EXPECT_EQ(p.n, 4);
  EXPECT_EQ(p.seed, 7);
  EXPECT_FALSE(p.prompt_extend);
  EXPECT_TRUE(p.watermark);
  EXPECT_EQ(p.negative_prompt, "blur");
}

}  // namespace
}  // namespace qwenimage::dashscope
