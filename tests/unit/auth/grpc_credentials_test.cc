#include "service/auth/grpc_credentials.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/grpc_security_constants.h"
#include "gtest/gtest.h"

namespace qwenimage::auth {
namespace {

using ::testing::ElementsAre;

// An AuthContext as a TLS handshake leaves it: named properties, peer verified or not.
class FakeAuthContext final : public grpc::AuthContext {
 public:
  explicit FakeAuthContext(bool authenticated) : authenticated_(authenticated) {}
  void Add(const std::string& name, const std::string& value) {
    properties_.emplace_back(name, value);
  }

  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    for (const auto& [n, v] : properties_) {
      if (n == name) values.emplace_back(v);
    }
    return values;
  }
  grpc::AuthPropertyIterator begin() const override { return Iterator(); }
  grpc::AuthPropertyIterator end() const override { return Iterator(); }
  void AddProperty(const std::string& key, const grpc::string_ref& value) override {
    Add(key, std::string(value.data(), value.size()));
  }
  bool SetPeerIdentityPropertyName(const std::string&) override { return false; }

 private:
  struct Iterator : grpc::AuthPropertyIterator {};
  const bool authenticated_;
  std::vector<std::pair<std::string, std::string>> properties_;
};

TEST(PeerSansTest, UriThenDnsSansOfAVerifiedPeer) {
  FakeAuthContext ctx(/*authenticated=*/true);
  ctx.Add(GRPC_PEER_DNS_PROPERTY_NAME, "client.example.org");
  ctx.Add(GRPC_PEER_URI_PROPERTY_NAME, "spiffe://example.org/team-b");
  ctx.Add(GRPC_X509_CN_PROPERTY_NAME, "team-z");  // the CN is no identity here
  ctx.Add(GRPC_PEER_EMAIL_PROPERTY_NAME, "someone@example.org");
  EXPECT_THAT(PeerSans(&ctx), ElementsAre("spiffe://example.org/team-b", "client.example.org"));
}

TEST(PeerSansTest, NothingFromAnUnverifiedPeerOrWithoutTls) {
  FakeAuthContext ctx(/*authenticated=*/false);
  ctx.Add(GRPC_PEER_URI_PROPERTY_NAME, "spiffe://example.org/team-b");
  EXPECT_TRUE(PeerSans(&ctx).empty());
  EXPECT_TRUE(PeerSans(nullptr).empty());
}

TEST(CredentialsOfTest, TakesEveryAuthorizationValueAndTheTenantHeader) {
  const std::string k_auth = "authorization", k_tenant = "x-qwenimage-tenant", k_other = "x-other";
  const std::string v1 = "Bearer one", v2 = "Bearer two", tenant = "team-a", other = "o";
  std::multimap<grpc::string_ref, grpc::string_ref> md;
  md.emplace(k_auth, v1);
  md.emplace(k_tenant, tenant);
  md.emplace(k_auth, v2);
  md.emplace(k_other, other);
  FakeAuthContext ctx(/*authenticated=*/true);
  ctx.Add(GRPC_PEER_URI_PROPERTY_NAME, "spiffe://example.org/team-b");
  CallCredentials c = CredentialsOf(md, &ctx);
  EXPECT_THAT(c.authorization, ElementsAre("Bearer one", "Bearer two"));
  ASSERT_TRUE(c.tenant_header.has_value());
  EXPECT_EQ(*c.tenant_header, "team-a");
  EXPECT_THAT(c.peer_sans, ElementsAre("spiffe://example.org/team-b"));

  CallCredentials none = CredentialsOf({}, nullptr);
  EXPECT_TRUE(none.authorization.empty());
  EXPECT_FALSE(none.tenant_header.has_value());
}

}  // namespace
}  // namespace qwenimage::auth
