#include "service/http/address_policy.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "absl/strings/strip.h"

namespace qwenimage::http {
namespace {

struct Ipv4Block {
  uint32_t base;
  int prefix_len;
  IpRange range;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// IANA IPv4 special-purpose registry, minus the blocks that are globally reachable anyway.
constexpr Ipv4Block kIpv4Blocks[] = {
    {V4(0, 0, 0, 0), 8, IpRange::kThisNetwork},
    {V4(10, 0, 0, 0), 8, IpRange::kPrivate},
    {V4(100, 64, 0, 0), 10, IpRange::kSharedCgnat},
    {V4(127, 0, 0, 0), 8, IpRange::kLoopback},
    {V4(169, 254, 0, 0), 16, IpRange::kLinkLocal},
    {V4(172, 16, 0, 0), 12, IpRange::kPrivate},
    {V4(192, 0, 0, 0), 24, IpRange::kReserved},     // IETF protocol assignments
    {V4(192, 0, 2, 0), 24, IpRange::kReserved},     // TEST-NET-1
    {V4(192, 88, 99, 0), 24, IpRange::kReserved},   // deprecated 6to4 relay anycast
    {V4(192, 168, 0, 0), 16, IpRange::kPrivate},
    {V4(198, 18, 0, 0), 15, IpRange::kReserved},    // benchmarking
    {V4(198, 51, 100, 0), 24, IpRange::kReserved},  // TEST-NET-2
    {V4(203, 0, 113, 0), 24, IpRange::kReserved},   // TEST-NET-3
    {V4(224, 0, 0, 0), 4, IpRange::kMulticast},
    {V4(240, 0, 0, 0), 4, IpRange::kReserved},      // incl. 255.255.255.255
};

uint32_t Ipv4At(const std::array<uint8_t, 16>& a, int at) {
  return (uint32_t{a[at]} << 24) | (uint32_t{a[at + 1]} << 16) | (uint32_t{a[at + 2]} << 8) |
         uint32_t{a[at + 3]};
}

bool AllZero(const std::array<uint8_t, 16>& a, int from, int to) {
  for (int i = from; i < to; ++i) {
    if (a[i] != 0) return false;
  }
  return true;
}

}  // namespace

IpRange ClassifyIpv4(uint32_t address) {
  for (const Ipv4Block& block : kIpv4Blocks) {
    const uint32_t mask = ~uint32_t{0} << (32 - block.prefix_len);
    if ((address & mask) == block.base) return block.range;
  }
  return IpRange::kPublic;
}

IpRange ClassifyIpv6(const std::array<uint8_t, 16>& a) {
  if (AllZero(a, 0, 16)) return IpRange::kThisNetwork;  // ::
  if (AllZero(a, 0, 15) && a[15] == 1) return IpRange::kLoopback;
  // ::ffff:a.b.c.d: the kernel connects to the IPv4 address itself.
  if (AllZero(a, 0, 10) && a[10] == 0xff && a[11] == 0xff) return ClassifyIpv4(Ipv4At(a, 12));
  // 64:ff9b::/96, the NAT64 well-known prefix: the translator forwards to the IPv4 address.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && AllZero(a, 4, 12)) {
    return ClassifyIpv4(Ipv4At(a, 12));
  }
  if (a[0] == 0xff) return IpRange::kMulticast;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return IpRange::kLinkLocal;  // fe80::/10
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return IpRange::kPrivate;    // fec0::/10
  if ((a[0] & 0xfe) == 0xfc) return IpRange::kPrivate;                    // fc00::/7
  // Only 2000::/3 is allocated as global unicast; the rest (IPv4-compatible ::a.b.c.d,
  // 100::/64 discard, 64:ff9b:1::/48 local NAT64, ...) is not somewhere we download from.
  if ((a[0] & 0xe0) != 0x20) return IpRange::kReserved;
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) return IpRange::kReserved;  // 2001::/23
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
    return IpRange::kReserved;  // 2001:db8::/32 documentation
  }
  if (a[0] == 0x20 && a[1] == 0x02) return ClassifyIpv4(Ipv4At(a, 2));  // 6to4 2002:V4ADDR::/48
  if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0) {
    return IpRange::kReserved;  // 3fff::/20 documentation
  }
  return IpRange::kPublic;
}

std::optional<IpRange> ClassifyIpLiteral(absl::string_view text) {
  if (absl::ConsumePrefix(&text, "[") && !absl::ConsumeSuffix(&text, "]")) return std::nullopt;
  text = text.substr(0, text.find('%'));  // the zone does not change the range
  const std::string s(text);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return ClassifyIpv4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), &v6, 16);
    return ClassifyIpv6(bytes);
  }
  return std::nullopt;
}

absl::string_view IpRangeName(IpRange range) {
  switch (range) {
    case IpRange::kPublic:
      return "public";
    case IpRange::kLoopback:
      return "loopback";
    case IpRange::kPrivate:
      return "private";
    case IpRange::kLinkLocal:
      return "link-local";
    case IpRange::kSharedCgnat:
      return "shared (CGNAT)";
    case IpRange::kThisNetwork:
      return "unspecified";
    case IpRange::kMulticast:
      return "multicast";
    case IpRange::kReserved:
      return "reserved";
  }
  return "unknown";
}

absl::string_view AddressPolicyName(AddressPolicy policy) {
  switch (policy) {
    case AddressPolicy::kAny:
      return "any";
    case AddressPolicy::kPublicOnly:
      return "public only";
    case AddressPolicy::kPublicOrLoopback:
      return "public or loopback";
  }
  return "unknown";
}

bool AddressPolicyAdmits(AddressPolicy policy, IpRange range) {
  switch (policy) {
    case AddressPolicy::kAny:
      return true;
    case AddressPolicy::kPublicOnly:
      return range == IpRange::kPublic;
    case AddressPolicy::kPublicOrLoopback:
      return range == IpRange::kPublic || range == IpRange::kLoopback;
  }
  return false;
}

}  // namespace qwenimage::http
