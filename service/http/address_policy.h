// Which peer IP addresses a request may connect to, and the pure IP-range classification behind
// it: a hostname that passes a name allowlist can still resolve to an internal or metadata address.
#ifndef QWENIMAGE_SERVICE_HTTP_ADDRESS_POLICY_H_
#define QWENIMAGE_SERVICE_HTTP_ADDRESS_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace qwenimage::http {

// Checked by CurlHttpClient on every address it is about to connect to and again on the peer
// of every connection (new or reused) before a request byte is written.
enum class AddressPolicy {
  kAny,               // no check: DashScope's API, configured by the operator
  kPublicOnly,        // globally routable unicast only (result-image downloads)
  kPublicOrLoopback,  // also 127.0.0.0/8 and ::1 (--allow_loopback_downloads: tests, simulator)
};

// The special-purpose range an address belongs to (IANA IPv4/IPv6 special-purpose registries,
// coarsened to what the policy needs). Everything not listed is kPublic.
enum class IpRange {
  kPublic,
  kLoopback,       // 127.0.0.0/8, ::1
  kPrivate,        // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (deprecated site-local)
  kLinkLocal,      // 169.254/16 (incl. the 169.254.169.254 cloud metadata service), fe80::/10
  kSharedCgnat,    // 100.64/10
  kThisNetwork,    // 0.0.0.0/8, ::
  kMulticast,      // 224/4, ff00::/8
  kReserved,       // documentation, benchmarking, 240/4, broadcast, IETF-assigned, non-2000::/3
};

// Host byte order: 127.0.0.1 is 0x7f000001.
IpRange ClassifyIpv4(uint32_t address);
// Network byte order (as in in6_addr). IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) addresses are classified by the IPv4 address they carry, since that is
// where the packets end up; IPv6 outside 2000::/3 not otherwise listed is kReserved.
IpRange ClassifyIpv6(const std::array<uint8_t, 16>& address);
// A numeric IPv4 ("10.0.0.1") or IPv6 ("fe80::1", optionally "[...]", "%zone" ignored)
// address; nullopt if `text` is not one.
std::optional<IpRange> ClassifyIpLiteral(absl::string_view text);

// "private", "link-local", ... for error messages.
absl::string_view IpRangeName(IpRange range);
absl::string_view AddressPolicyName(AddressPolicy policy);

bool AddressPolicyAdmits(AddressPolicy policy, IpRange range);

}  // namespace qwenimage::http

#endif  // QWENIMAGE_SERVICE_HTTP_ADDRESS_POLICY_H_
