#include "service/auth/authenticator.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sha256.h"
#include "tests/testing/manual_executor.h"

namespace qwenimage::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenA[] = "tok-a-3f1c9d2e7b";
constexpr char kTokenB[] = "tok-b-8e4a6c0d1f";
constexpr char kTokenC[] = "tok-c-55aa77cc99";

std::string HashOf(const std::string& token) { return store::Sha256Hex(token); }

// A tokens file: team-a (with quota overrides), team-b, and an mTLS identity for team-c.
std::string FileWith(const std::vector<std::pair<std::string, std::string>>& tokens) {
  std::string entries;
  for (const auto& [token, tenant] : tokens) {
    absl::StrAppend(&entries, entries.empty() ? "" : ",", R"({"sha256": ")", HashOf(token),
                    R"(", "tenant": ")", tenant, R"(", "name": "label-)", tenant,
                    R"(", "quotas": {"max_running": 1}})");
  }
  return absl::StrCat(R"({"tokens": [)", entries, R"(],
      "identities": [{"san": "spiffe://example.org/team-c", "tenant": "team-c",
                      "quotas": {"images_per_day": 9}}]})");
}

CallCredentials Bearer(absl::string_view value) {
  CallCredentials c;
  c.authorization.push_back(value);
  return c;
}

// Every credential-bearing string of these tests, none of which may appear in a message.
void ExpectNoSecretsIn(const absl::Status& status) {
  for (const std::string& secret : std::vector<std::string>{
           std::string(kTokenA), std::string(kTokenB), std::string(kTokenC), HashOf(kTokenA),
           HashOf(kTokenB), HashOf(kTokenC), std::string("not-a-real-token")}) {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(secret)));
  }
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/authenticator_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/tokens.json";
  }

  void Write(const std::string& contents) {
    // Replaced by rename, as a Secret volume update replaces it: never seen half-written.
    std::ofstream(path_ + ".tmp") << contents;
    std::filesystem::rename(path_ + ".tmp", path_);
  }

  std::unique_ptr<Authenticator> Create(AuthMode mode = AuthMode::kTokens) {
    Authenticator::Options options;
    options.mode = mode;
    options.tokens_file = path_;
    options.default_quotas = {/*max_queued=*/10, /*max_running=*/4, /*creates_per_minute=*/60,
                              /*images_per_day=*/500};
    absl::StatusOr<std::unique_ptr<Authenticator>> a = Authenticator::Create(options);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *std::move(a) : nullptr;
  }

  // The tenant a token authenticates as, or the status code's name.
  static std::string TenantOf(const Authenticator& a, const CallCredentials& c) {
    absl::StatusOr<Principal> p = a.Authenticate(c);
    if (!p.ok()) {
      ExpectNoSecretsIn(p.status());
      return absl::StatusCodeToString(p.status().code());
    }
    return p->tenant;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(AuthenticatorTest, ARightTokenGivesItsTenantWithTheDefaultsOverlaid) {
  Write(FileWith({{kTokenA, "team-a"}, {kTokenB, "team-b"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->token_count(), 2u);
  EXPECT_EQ(a->identity_count(), 1u);
  const std::string header = absl::StrCat("Bearer ", kTokenB);
  absl::StatusOr<Principal> p = a->Authenticate(Bearer(header));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant, "team-b");
  EXPECT_EQ(p->quotas.max_queued, 10);
  EXPECT_EQ(p->quotas.max_running, 1);  // the token's override
  EXPECT_EQ(p->quotas.creates_per_minute, 60);
  EXPECT_EQ(p->quotas.images_per_day, 500);
}

TEST_F(AuthenticatorTest, WrongMissingAndMalformedTokensAreUnauthenticated) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(TenantOf(*a, Bearer("Bearer not-a-real-token")), "UNAUTHENTICATED");
  EXPECT_EQ(TenantOf(*a, CallCredentials{}), "UNAUTHENTICATED");
  const std::string token_a(kTokenA);
  for (const std::string& value : std::vector<std::string>{
           token_a, "Basic " + token_a, "Bearer", "Bearer ", "Bearer  ", "Bearer" + token_a,
           "Bearer " + token_a + " x", "Bearer " + token_a + "\t", "Token " + token_a}) {
    EXPECT_EQ(TenantOf(*a, Bearer(value)), "UNAUTHENTICATED") << value;
  }
  // Two authorization values are ambiguous even when one is right.
  CallCredentials twice = Bearer(absl::StrCat("Bearer ", kTokenA));
  twice.authorization.push_back("Bearer not-a-real-token");
  EXPECT_EQ(TenantOf(*a, twice), "UNAUTHENTICATED");
  // The scheme is case-insensitive (RFC 7235); more than one space is allowed.
  EXPECT_EQ(TenantOf(*a, Bearer(absl::StrCat("bearer ", kTokenA))), "team-a");
  EXPECT_EQ(TenantOf(*a, Bearer(absl::StrCat("BEARER   ", kTokenA))), "team-a");
}

TEST_F(AuthenticatorTest, MessagesSayWhatIsMissingWithoutEchoingIt) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  EXPECT_THAT(a->Authenticate(CallCredentials{}).status().message(),
              HasSubstr("authorization: Bearer <token>"));
  EXPECT_THAT(a->Authenticate(Bearer("Bearer not-a-real-token")).status().message(),
              HasSubstr("invalid or revoked"));
  EXPECT_THAT(a->Authenticate(Bearer("Basic not-a-real-token")).status().message(),
              HasSubstr("malformed"));
}

TEST_F(AuthenticatorTest, EveryTokenIsComparedInConstantTimeAgainstEveryEntry) {
  Write(FileWith({{kTokenA, "team-a"}, {kTokenB, "team-b"}, {kTokenC, "team-c2"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  const std::string first = absl::StrCat("Bearer ", kTokenA);
  const std::string last = absl::StrCat("Bearer ", kTokenC);
  for (const std::string& value : {first, last, std::string("Bearer not-a-real-token")}) {
    const uint64_t before = a->digest_comparisons();
    (void)a->Authenticate(Bearer(value));
    EXPECT_EQ(a->digest_comparisons() - before, 3u) << value;
  }
  // A malformed value or no token compares nothing (there is no digest to compare).
  const uint64_t before = a->digest_comparisons();
  (void)a->Authenticate(Bearer("Basic x"));
  (void)a->Authenticate(CallCredentials{});
  EXPECT_EQ(a->digest_comparisons(), before);
}

TEST_F(AuthenticatorTest, AMappedClientCertificateIdentityGivesItsTenant) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  CallCredentials peer;
  peer.peer_sans = {"client.example.org", "spiffe://example.org/team-c"};
  absl::StatusOr<Principal> p = a->Authenticate(peer);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant, "team-c");
  EXPECT_EQ(p->quotas.images_per_day, 9);
  EXPECT_EQ(p->quotas.max_running, 4);

  CallCredentials unmapped;
  unmapped.peer_sans = {"spiffe://example.org/team-z"};
  EXPECT_EQ(TenantOf(*a, unmapped), "UNAUTHENTICATED");
  EXPECT_THAT(a->Authenticate(unmapped).status().message(), HasSubstr("not mapped"));
}

TEST_F(AuthenticatorTest, APresentedTokenDecidesEvenWithAMappedCertificate) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  CallCredentials c = Bearer("Bearer not-a-real-token");
  c.peer_sans = {"spiffe://example.org/team-c"};
  EXPECT_EQ(TenantOf(*a, c), "UNAUTHENTICATED");
  const std::string right = absl::StrCat("Bearer ", kTokenA);
  c.authorization = {right};
  EXPECT_EQ(TenantOf(*a, c), "team-a");
}

TEST_F(AuthenticatorTest, TokensModeIgnoresTheTenantHeader) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  const std::string right = absl::StrCat("Bearer ", kTokenA);
  CallCredentials c = Bearer(right);
  c.tenant_header = "team-b";
  EXPECT_EQ(TenantOf(*a, c), "team-a");
  CallCredentials header_only;
  header_only.tenant_header = "team-b";
  EXPECT_EQ(TenantOf(*a, header_only), "UNAUTHENTICATED");
}

TEST_F(AuthenticatorTest, NoneModeTakesTheTenantHeaderAsBefore) {
  auto a = Create(AuthMode::kNone);  // no file is read: path_ does not exist
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(TenantOf(*a, CallCredentials{}), "default");
  CallCredentials c;
  c.tenant_header = "team-b";
  absl::StatusOr<Principal> p = a->Authenticate(c);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tenant, "team-b");
  EXPECT_EQ(p->quotas.max_queued, 10);
  EXPECT_EQ(p->quotas.images_per_day, 500);
  for (const std::string& bad :
       std::vector<std::string>{std::string(""), std::string(65, 'x'), std::string("a b")}) {
    c.tenant_header = bad;
    EXPECT_EQ(TenantOf(*a, c), "INVALID_ARGUMENT") << bad;
  }
  // A token changes nothing in this mode.
  EXPECT_EQ(TenantOf(*a, Bearer("Bearer not-a-real-token")), "default");
  EXPECT_EQ(a->token_count(), 0u);
  absl::StatusOr<bool> reloaded = a->Reload();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE(*reloaded);
}

TEST_F(AuthenticatorTest, CreateRefusesAMissingOrBadFile) {
  Authenticator::Options no_file;
  no_file.mode = AuthMode::kTokens;
  absl::StatusOr<std::unique_ptr<Authenticator>> a = Authenticator::Create(no_file);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("--tokens_file"));

  Authenticator::Options missing;
  missing.tokens_file = path_;
  a = Authenticator::Create(missing);
  EXPECT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr(path_));

  Write(absl::StrCat(R"({"tokens": [{"sha256": ")", HashOf(kTokenA), R"(", "tenant": "a b"}]})"));
  a = Authenticator::Create(missing);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("tokens[0].tenant"));
  ExpectNoSecretsIn(a.status());
}

TEST_F(AuthenticatorTest, ReloadReplacesTheTokens) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  const std::string bearer_a = absl::StrCat("Bearer ", kTokenA);
  const std::string bearer_b = absl::StrCat("Bearer ", kTokenB);
  absl::StatusOr<bool> unchanged = a->Reload();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(*unchanged);

  Write(FileWith({{kTokenB, "team-b"}}));  // A revoked, B added
  absl::StatusOr<bool> reloaded = a->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(*reloaded);
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "UNAUTHENTICATED");
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_b)), "team-b");
}

TEST_F(AuthenticatorTest, ABadReloadKeepsTheConfigInUse) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  const std::string bearer_a = absl::StrCat("Bearer ", kTokenA);
  for (const std::string& bad :
       std::vector<std::string>{std::string("{\"tokens\": ["),
                                absl::StrCat(R"({"tokens": [{"sha256": ")", HashOf(kTokenB),
                                             R"(", "tenant": "b", "extra": 1}]})")}) {
    Write(bad);
    absl::StatusOr<bool> reloaded = a->Reload();
    EXPECT_FALSE(reloaded.ok());
    EXPECT_THAT(reloaded.status().message(), HasSubstr("keeping the tokens in use"));
    ExpectNoSecretsIn(reloaded.status());
    EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "team-a");
  }
  std::filesystem::remove(path_);
  EXPECT_FALSE(a->Reload().ok());
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "team-a");
}

TEST_F(AuthenticatorTest, ReadersDuringReloadsSeeOneWholeConfig) {
  Write(FileWith({{kTokenA, "team-a"}, {kTokenB, "team-b"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      const std::string bearer = absl::StrCat("Bearer ", kTokenA);
      while (!stop.load()) {
        absl::StatusOr<Principal> p = a->Authenticate(Bearer(bearer));
        if (!p.ok() || p->tenant != "team-a") failures.fetch_add(1);
      }
    });
  }
  // Token A stays in every version; B comes and goes.
  for (int i = 0; i < 50; ++i) {
    Write(i % 2 == 0 ? FileWith({{kTokenA, "team-a"}})
                     : FileWith({{kTokenB, "team-b"}, {kTokenA, "team-a"}}));
    ASSERT_TRUE(a->Reload().ok());
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

class AuthenticatorWatchTest : public AuthenticatorTest {
 protected:
  testing::FakeClock clock_;
  testing::ManualExecutor executor_{clock_};
};

TEST_F(AuthenticatorWatchTest, APollAppliesARewriteAndReportsEachFailureOnce) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  std::vector<std::string> errors;
  a->StartWatching(executor_, clock_, absl::Seconds(2),
                   [&errors](const absl::Status& e) { errors.emplace_back(e.message()); });
  const std::string bearer_a = absl::StrCat("Bearer ", kTokenA);
  const std::string bearer_b = absl::StrCat("Bearer ", kTokenB);

  Write(FileWith({{kTokenB, "team-b"}}));
  executor_.AdvanceBy(absl::Seconds(1));  // not yet due
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "team-a");
  executor_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "UNAUTHENTICATED");
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_b)), "team-b");

  Write("{not json");
  executor_.AdvanceBy(absl::Seconds(2));
  executor_.AdvanceBy(absl::Seconds(2));  // the same failure: not again
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("not valid JSON"));
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_b)), "team-b");

  Write(FileWith({{kTokenA, "team-a"}}));
  executor_.AdvanceBy(absl::Seconds(2));
  EXPECT_EQ(TenantOf(*a, Bearer(bearer_a)), "team-a");
  EXPECT_EQ(errors.size(), 1u);
}

TEST_F(AuthenticatorWatchTest, StopWatchingCancelsThePoll) {
  Write(FileWith({{kTokenA, "team-a"}}));
  auto a = Create();
  ASSERT_NE(a, nullptr);
  a->StartWatching(executor_, clock_, absl::Seconds(2));
  a->StopWatching();
  Write(FileWith({{kTokenB, "team-b"}}));
  executor_.AdvanceBy(absl::Seconds(10));
  EXPECT_EQ(TenantOf(*a, Bearer(absl::StrCat("Bearer ", kTokenA))), "team-a");
  a.reset();  // the destructor stops again: harmless
  executor_.AdvanceBy(absl::Seconds(10));
}

}  // namespace
}  // namespace qwenimage::auth
