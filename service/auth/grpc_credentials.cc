#include "service/auth/grpc_credentials.h"

#include <memory>

#include "grpc/grpc_security_constants.h"

namespace qwenimage::auth {
namespace {

absl::string_view View(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

}  // namespace

std::vector<std::string> PeerSans(const grpc::AuthContext* auth_context) {
  std::vector<std::string> sans;
  if (auth_context == nullptr || !auth_context->IsPeerAuthenticated()) return sans;
  for (const char* property : {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth_context->FindPropertyValues(property)) {
      sans.emplace_back(value.data(), value.size());
    }
  }
  return sans;
}

CallCredentials CredentialsOf(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                              const grpc::AuthContext* auth_context) {
  CallCredentials credentials;
  auto [begin, end] = metadata.equal_range("authorization");
  for (auto it = begin; it != end; ++it) credentials.authorization.push_back(View(it->second));
  if (auto it = metadata.find(kTenantHeader); it != metadata.end()) {
    credentials.tenant_header = View(it->second);
  }
  credentials.peer_sans = PeerSans(auth_context);
  return credentials;
}

absl::StatusOr<Principal> Authenticate(const Authenticator& authenticator,
                                       const grpc::ServerContextBase& ctx) {
  // Only tokens mode looks at the peer; auth_context() builds an object per call.
  std::shared_ptr<const grpc::AuthContext> auth_context;
  if (authenticator.mode() == AuthMode::kTokens) auth_context = ctx.auth_context();
  return authenticator.Authenticate(CredentialsOf(ctx.client_metadata(), auth_context.get()));
}

}  // namespace qwenimage::auth
