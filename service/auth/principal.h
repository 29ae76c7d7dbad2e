// Principal: who a call is, as the api layer uses it — the tenant whose tasks it may see and
// the quotas it runs under. Produced by auth::Authenticator; never carries a credential.
#ifndef QWENIMAGE_SERVICE_AUTH_PRINCIPAL_H_
#define QWENIMAGE_SERVICE_AUTH_PRINCIPAL_H_

#include <string>

#include "service/tasks/tenant_quotas.h"

namespace qwenimage::auth {

struct Principal {
  std::string tenant;
  // Resolved: the flag defaults overlaid by the token's (or identity's) overrides.
  tasks::TenantQuotas quotas;
};

}  // namespace qwenimage::auth

#endif  // QWENIMAGE_SERVICE_AUTH_PRINCIPAL_H_
