#include "service/auth/token_file.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace qwenimage::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// sha256("abc"), and some other hash.
constexpr char kHashA[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kHashB[] = "7e2e3c4fb5e4a4a5a77b46a5b7c0c5b9b7c7c6e0d5e1f2a3b4c5d6e7f8091a2b";
static_assert(sizeof(kHashA) == 65 && sizeof(kHashB) == 65);

std::string Token(const std::string& hash, const std::string& tenant = "team-a",
                  const std::string& extra = "") {
  return absl::StrCat(R"({"sha256": ")", hash, R"(", "tenant": ")", tenant, R"(")", extra, "}");
}

std::string Tokens(const std::string& entries) {
  return absl::StrCat(R"({"tokens": [)", entries, "]}");
}

// The message of a parse that must fail; it must never contain a hash from the input.
std::string ErrorOf(const std::string& json) {
  absl::StatusOr<TokenConfig> config = ParseTokenConfig(json);
  EXPECT_FALSE(config.ok()) << json;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(config.status().message());
  EXPECT_THAT(message, Not(HasSubstr(kHashA)));
  EXPECT_THAT(message, Not(HasSubstr(kHashB)));
  EXPECT_THAT(message, Not(HasSubstr("ba7816bf")));
  return message;
}

TEST(TokenFileTest, ParsesTheContractExample) {
  absl::StatusOr<TokenConfig> config =
      ParseTokenConfig(absl::StrCat(R"(
    {"tokens": [{"sha256": ")",
                                    kHashA, R"(", "tenant": "team-a", "name": "ci-2026-11",
                 "quotas": {"max_queued": 100, "max_running": 2, "creates_per_minute": 60,
                            "images_per_day": 5000}}],
     "identities": [{"san": "spiffe://example.org/team-b", "tenant": "team-b", "quotas": {}}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->tokens.size(), 1u);
  const TokenEntry& t = config->tokens[0];
  EXPECT_EQ(t.digest, DigestOf("abc"));
  EXPECT_EQ(t.tenant, "team-a");
  EXPECT_EQ(t.name, "ci-2026-11");
  EXPECT_EQ(t.quotas.max_queued, 100);
  EXPECT_EQ(t.quotas.max_running, 2);
  EXPECT_EQ(t.quotas.creates_per_minute, 60);
  EXPECT_EQ(t.quotas.images_per_day, 5000);
  ASSERT_EQ(config->identities.size(), 1u);
  EXPECT_EQ(config->identities[0].san, "spiffe://example.org/team-b");
  EXPECT_EQ(config->identities[0].tenant, "team-b");
  EXPECT_FALSE(config->identities[0].quotas.max_queued.has_value());
}

TEST(TokenFileTest, EverySectionAndFieldButTheRequiredOnesIsOptional) {
  for (const std::string& json :
       std::vector<std::string>{"{}", R"({"tokens": []})", R"({"identities": []})"}) {
    absl::StatusOr<TokenConfig> config = ParseTokenConfig(json);
    ASSERT_TRUE(config.ok()) << json << ": " << config.status();
    EXPECT_TRUE(config->tokens.empty());
    EXPECT_TRUE(config->identities.empty());
  }
  absl::StatusOr<TokenConfig> config = ParseTokenConfig(Tokens(Token(kHashA)));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tokens[0].name, "");
  EXPECT_FALSE(config->tokens[0].quotas.images_per_day.has_value());
}

TEST(TokenFileTest, OverridesApplyOverTheDefaults) {
  QuotaOverrides overrides;
  overrides.max_running = 0;  // explicit unlimited still overrides
  overrides.images_per_day = 7;
  tasks::TenantQuotas q = overrides.ApplyTo({10, 3, 60, 500});
  EXPECT_EQ(q.max_queued, 10);
  EXPECT_EQ(q.max_running, 0);
  EXPECT_EQ(q.creates_per_minute, 60);
  EXPECT_EQ(q.images_per_day, 7);
}

TEST(TokenFileTest, DigestOfIsSha256) {
  absl::StatusOr<TokenConfig> config = ParseTokenConfig(Tokens(Token(kHashA)));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->tokens[0].digest, DigestOf("abc"));
  EXPECT_NE(config->tokens[0].digest, DigestOf("abd"));
}

TEST(TokenFileTest, FindTokenComparesEveryEntryWhereverTheMatchIs) {
  absl::StatusOr<TokenConfig> config = ParseTokenConfig(Tokens(absl::StrCat(
      Token(kHashA, "a"), ",", Token(kHashB, "b"), ",", Token(std::string(64, '0'), "c"))));
  ASSERT_TRUE(config.ok()) << config.status();
  size_t comparisons = 0;
  const TokenEntry* first = config->FindToken(DigestOf("abc"), &comparisons);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->tenant, "a");
  EXPECT_EQ(comparisons, 3u);
  comparisons = 0;
  TokenDigest zeros{};
  const TokenEntry* last = config->FindToken(zeros, &comparisons);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->tenant, "c");
  EXPECT_EQ(comparisons, 3u);
  comparisons = 0;
  EXPECT_EQ(config->FindToken(DigestOf("nope"), &comparisons), nullptr);
  EXPECT_EQ(comparisons, 3u);
}

TEST(TokenFileTest, FindIdentityMatchesExactly) {
  absl::StatusOr<TokenConfig> config = ParseTokenConfig(
      R"({"identities": [{"san": "spiffe://example.org/b", "tenant": "b"},
                         {"san": "client.example.org", "tenant": "c"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_NE(config->FindIdentity("client.example.org"), nullptr);
  EXPECT_EQ(config->FindIdentity("client.example.org")->tenant, "c");
  EXPECT_EQ(config->FindIdentity("spiffe://example.org/b")->tenant, "b");
  EXPECT_EQ(config->FindIdentity("spiffe://example.org/b/"), nullptr);
  EXPECT_EQ(config->FindIdentity("CLIENT.example.org"), nullptr);
}

TEST(TokenFileTest, RefusesWhatIsNotAJsonObject) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("not valid JSON"));
  // nlohmann's own message would quote the bytes around the error: ours does not.
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"tokens": [{"sha256": ")", kHashA, R"(" x)")),
            "tokens file: not valid JSON");
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("top level: must be an object"));
  EXPECT_THAT(ErrorOf(R"({"tokens": [], "tokenz": []})"), HasSubstr("top level: an unknown field"));
  EXPECT_THAT(ErrorOf(R"({"tokens": {}})"), HasSubstr("tokens: must be an array"));
  EXPECT_THAT(ErrorOf(R"({"identities": "x"})"), HasSubstr("identities: must be an array"));
  EXPECT_THAT(ErrorOf(R"({"tokens": [{}, 3]})"), HasSubstr("tokens[0].sha256: is required"));
  EXPECT_THAT(ErrorOf(Tokens(absl::StrCat(Token(kHashA), ", 3"))),
              HasSubstr("tokens[1]: must be an object"));
}

TEST(TokenFileTest, UnknownFieldsAreRefusedWithoutEchoingThem) {
  EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, "a", R"(, "token": "x")"))),
              HasSubstr("tokens[0]: an unknown field (the fields are sha256, tenant, name, "
                        "quotas)"));
  // A token or a hash misused as a key is not repeated.
  std::string message = ErrorOf(absl::StrCat(R"({"mysecrettoken": "team-a"})"));
  EXPECT_THAT(message,
              HasSubstr("top level: an unknown field (the fields are tokens, identities)"));
  EXPECT_THAT(message, Not(HasSubstr("mysecrettoken")));
  EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, "a", absl::StrCat(R"(, ")", kHashB, R"(": 1)")))),
              HasSubstr("tokens[0]: an unknown field"));
  EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, "a", R"(, "quotas": {"max_queue": 1})"))),
              HasSubstr("tokens[0].quotas: an unknown field (the fields are max_queued, "
                        "max_running, creates_per_minute, images_per_day)"));
  EXPECT_THAT(ErrorOf(R"({"identities": [{"san": "x", "tenant": "a", "sans": []}]})"),
              HasSubstr("identities[0]: an unknown field (the fields are san, tenant, name, "
                        "quotas)"));
}

TEST(TokenFileTest, TheHashMustBe64LowercaseHex) {
  const std::string second = absl::StrCat(Token(kHashB), ",");
  for (const std::string& bad : std::vector<std::string>{
           std::string(kHashA).substr(0, 63), absl::StrCat(kHashA, "0"),
           absl::AsciiStrToUpper(kHashA), absl::StrCat(std::string(kHashA).substr(0, 63), "g"),
           std::string("")}) {
    EXPECT_THAT(ErrorOf(Tokens(absl::StrCat(second, Token(bad)))),
                HasSubstr("tokens[1].sha256: must be 64 lowercase hex characters"))
        << bad;
  }
  EXPECT_THAT(ErrorOf(R"({"tokens": [{"sha256": 12, "tenant": "a"}]})"),
              HasSubstr("tokens[0].sha256: must be 64 lowercase hex"));
  EXPECT_THAT(ErrorOf(R"({"tokens": [{"tenant": "a"}]})"),
              HasSubstr("tokens[0].sha256: is required"));
}

TEST(TokenFileTest, DuplicateHashesAreRefusedNamingBothEntries) {
  std::string message = ErrorOf(
      Tokens(absl::StrCat(Token(kHashA, "a"), ",", Token(kHashB, "b"), ",", Token(kHashA, "c"))));
  EXPECT_THAT(message, HasSubstr("tokens[2].sha256: is the same hash as tokens[0]"));
}

TEST(TokenFileTest, TenantsFollowTheCharset) {
  EXPECT_TRUE(ParseTokenConfig(Tokens(Token(kHashA, "Team_1.a:b-c"))).ok());
  EXPECT_TRUE(ParseTokenConfig(Tokens(Token(kHashA, std::string(64, 't')))).ok());
  for (const std::string& bad :
       std::vector<std::string>{std::string(""), std::string(65, 't'), std::string("team a"),
                                std::string("team/a"), std::string("t\\u00e9am")}) {
    EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, bad))),
                HasSubstr("tokens[0].tenant: must be 1 to 64 characters"))
        << bad;
  }
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"tokens": [{"sha256": ")", kHashA, R"(", "tenant": 5}]})")),
              HasSubstr("tokens[0].tenant: must be"));
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"tokens": [{"sha256": ")", kHashA, R"("}]})")),
              HasSubstr("tokens[0].tenant: is required"));
  EXPECT_THAT(ErrorOf(R"({"identities": [{"san": "x"}]})"),
              HasSubstr("identities[0].tenant: is required"));
}

TEST(TokenFileTest, NamesArePrintableLabels) {
  EXPECT_TRUE(ParseTokenConfig(Tokens(Token(kHashA, "a", R"(, "name": "ci-2026/11")"))).ok());
  for (const std::string& bad :
       std::vector<std::string>{R"(, "name": 1)", R"(, "name": "two words")",
                                absl::StrCat(R"(, "name": ")", std::string(129, 'n'), R"(")"),
                                std::string(R"(, "name": "tab\there")")}) {
    EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, "a", bad))), HasSubstr("tokens[0].name: must be"))
        << bad;
  }
}

TEST(TokenFileTest, QuotasAreNonNegativeInts) {
  EXPECT_TRUE(ParseTokenConfig(Tokens(Token(kHashA, "a",
                                            R"(, "quotas": {"max_queued": 0,
                                               "images_per_day": 2147483647})")))
                  .ok());
  for (const std::string& bad :
       std::vector<std::string>{"-1", "1.5", "1.0", "\"5\"", "null", "true", "2147483648",
                                "18446744073709551615", "-9223372036854775808", "[1]"}) {
    EXPECT_THAT(
        ErrorOf(Tokens(
            Token(kHashA, "a", absl::StrCat(R"(, "quotas": {"creates_per_minute": )", bad, "}")))),
        HasSubstr("tokens[0].quotas.creates_per_minute: must be an integer from 0"))
        << bad;
  }
  EXPECT_THAT(ErrorOf(Tokens(Token(kHashA, "a", R"(, "quotas": [])"))),
              HasSubstr("tokens[0].quotas: must be an object"));
  EXPECT_THAT(ErrorOf(R"({"identities": [{"san": "x", "tenant": "a",
                                          "quotas": {"max_running": -2}}]})"),
              HasSubstr("identities[0].quotas.max_running: must be an integer"));
}

TEST(TokenFileTest, IdentitiesNeedADistinctPrintableSan) {
  EXPECT_THAT(ErrorOf(R"({"identities": [{"tenant": "a"}]})"),
              HasSubstr("identities[0].san: is required"));
  for (const std::string& bad : std::vector<std::string>{
           R"("")", R"(7)", R"("two words")", absl::StrCat("\"", std::string(1025, 's'), "\"")}) {
    EXPECT_THAT(ErrorOf(absl::StrCat(R"({"identities": [{"san": )", bad, R"(, "tenant": "a"}]})")),
                HasSubstr("identities[0].san: must be a URI or DNS name"))
        << bad;
  }
  EXPECT_THAT(ErrorOf(R"({"identities": [{"san": "a.example", "tenant": "a"},
                                         {"san": "a.example", "tenant": "b"}]})"),
              HasSubstr("identities[1].san: is the same SAN as identities[0]"));
  EXPECT_THAT(ErrorOf(R"({"identities": [3]})"), HasSubstr("identities[0]: must be an object"));
}

class ReadTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/token_file_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string dir_;
};

TEST_F(ReadTokenFileTest, ReadsAFileAndNamesThePathOnErrors) {
  const std::string path = dir_ + "/tokens.json";
  std::ofstream(path) << Tokens(Token(kHashA));
  absl::StatusOr<std::string> contents = ReadTokenFile(path);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_TRUE(ParseTokenConfig(*contents).ok());

  absl::StatusOr<std::string> missing = ReadTokenFile(dir_ + "/missing.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/missing.json"));
  EXPECT_THAT(ReadTokenFile(dir_).status().message(), HasSubstr("is not a regular file"));
}

TEST_F(ReadTokenFileTest, RefusesAnOversizedFile) {
  const std::string path = dir_ + "/big.json";
  std::ofstream(path) << std::string(kMaxTokenFileBytes + 1, ' ');
  absl::StatusOr<std::string> contents = ReadTokenFile(path);
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(contents.status().message(), HasSubstr("is larger than"));
}

}  // namespace
}  // namespace qwenimage::auth
