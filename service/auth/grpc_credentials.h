// The adapter between a gRPC call and the Authenticator: extracts the call's credentials
// (authorization and tenant metadata, a verified client certificate's URI and DNS SANs) as
// plain strings, so that the Authenticator itself is tested without gRPC.
#ifndef QWENIMAGE_SERVICE_AUTH_GRPC_CREDENTIALS_H_
#define QWENIMAGE_SERVICE_AUTH_GRPC_CREDENTIALS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"
#include "service/auth/authenticator.h"
#include "service/auth/principal.h"

namespace qwenimage::auth {

// The URI SANs, then the DNS SANs, of the peer's certificate when the handshake verified it
// (AuthContext::IsPeerAuthenticated: mTLS against --tls_client_ca); empty otherwise.
std::vector<std::string> PeerSans(const grpc::AuthContext* auth_context);

// Views into `metadata`, which must outlive the result.
CallCredentials CredentialsOf(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                              const grpc::AuthContext* auth_context);

// Authenticator::Authenticate on a live call.
absl::StatusOr<Principal> Authenticate(const Authenticator& authenticator,
                                       const grpc::ServerContextBase& ctx);

}  // namespace qwenimage::auth

#endif  // QWENIMAGE_SERVICE_AUTH_GRPC_CREDENTIALS_H_
