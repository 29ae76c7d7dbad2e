// Tests for Sha256Hex against the FIPS 180-2 vectors.
// The same digests appear in Image.sha256, so the format (lowercase hex) matters too.
#include "service/store/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace qwenimage::store {
namespace {

TEST(Sha256HexTest, Empty) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256HexTest, Abc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, TwoBlockMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256HexTest, MillionAs) {
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HexTest, BinaryWithNul) {
  const std::string bytes("\0\xff", 2);
  EXPECT_EQ(Sha256Raw(bytes).size(), 32u);
  EXPECT_EQ(Sha256Hex(bytes).size(), 64u);
  EXPECT_NE(Sha256Hex(bytes), Sha256Hex(std::string("\0", 1)));
}

}  // namespace
}  // namespace qwenimage::store
