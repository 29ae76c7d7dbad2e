// PNG rendering and the signed, expiring image URLs.
#include "service/simulator/images.h"

#include "gtest/gtest.h"
#include "tests/unit/simulator/sim_test_util.h"

namespace qwenimage::simulator {
namespace {

TEST(RenderPngTest, SizeAndDeterminism) {
  std::string a = RenderPng(1664, 928, ImageKey("cat", 1, 0));
  EXPECT_EQ(PngSize(a), std::make_pair(1664, 928));
  EXPECT_EQ(a, RenderPng(1664, 928, ImageKey("cat", 1, 0)));
  EXPECT_NE(a, RenderPng(1664, 928, ImageKey("cat", 1, 1)));
  EXPECT_NE(a, RenderPng(1664, 928, ImageKey("cat", 2, 0)));
  EXPECT_NE(a, RenderPng(1664, 928, ImageKey("dog", 1, 0)));
}

TEST(ImageUrlsTest, VerifiesSignatureAndExpiry) {
  ImageUrls urls("http://127.0.0.1:1", 42);
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::string url = urls.Make({64, 32, 0xabcdef}, now + absl::Hours(24));
  std::string rest = url.substr(std::string("http://127.0.0.1:1").size());
  std::string path = rest.substr(0, rest.find('?'));
  std::string query = rest.substr(rest.find('?') + 1);
  ImageRef ref;
  EXPECT_EQ(urls.Verify(path, query, now, &ref), ImageUrls::Check::kOk);
  EXPECT_EQ(ref.width, 64);
  EXPECT_EQ(ref.height, 32);
  EXPECT_EQ(ref.key, 0xabcdefu);
  EXPECT_EQ(urls.Verify(path, query, now + absl::Hours(25), &ref), ImageUrls::Check::kExpired);
  EXPECT_EQ(ImageUrls("http://127.0.0.1:1", 43).Verify(path, query, now, &ref),
            ImageUrls::Check::kBadSignature);
  EXPECT_EQ(urls.Verify("/images/nope", query, now, &ref), ImageUrls::Check::kNotFound);
}

}  // namespace
}  // namespace qwenimage::simulator
