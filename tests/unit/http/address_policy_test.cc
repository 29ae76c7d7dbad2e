#include "service/http/address_policy.h"

#include <string>

#include "gtest/gtest.h"
#include "service/http/url.h"

namespace qwenimage::http {
namespace {

IpRange Classify(const std::string& text) {
  std::optional<IpRange> range = ClassifyIpLiteral(text);
  EXPECT_TRUE(range.has_value()) << text;
  return range.value_or(IpRange::kPublic);
}

void ExpectRange(IpRange expected, std::initializer_list<const char*> addresses) {
  for (const char* a : addresses) {
    EXPECT_EQ(Classify(a), expected) << a << " is " << IpRangeName(Classify(a));
  }
}

TEST(ClassifyIpTest, Ipv4) {
  ExpectRange(IpRange::kPublic, {"1.1.1.1", "8.8.8.8", "47.88.1.2", "9.255.255.255",
                                 "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
                                 "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
                                 "172.32.0.0", "192.167.255.255", "192.169.0.0", "223.255.255.255"});
  ExpectRange(IpRange::kLoopback, {"127.0.0.1", "127.0.0.0", "127.255.255.255", "127.1.2.3"});
  ExpectRange(IpRange::kPrivate, {"10.0.0.0", "10.255.255.255", "172.16.0.0", "172.31.255.255",
                                  "192.168.0.0", "192.168.255.255"});
  ExpectRange(IpRange::kLinkLocal, {"169.254.0.0", "169.254.169.254", "169.254.255.255"});
  ExpectRange(IpRange::kSharedCgnat, {"100.64.0.0", "100.127.255.255"});
  ExpectRange(IpRange::kThisNetwork, {"0.0.0.0", "0.255.255.255"});
  ExpectRange(IpRange::kMulticast, {"224.0.0.1", "239.255.255.255"});
  ExpectRange(IpRange::kReserved, {"240.0.0.0", "255.255.255.255", "192.0.0.170", "192.0.2.1",
                                   "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.9",
                                   "192.88.99.1"});
}

TEST(ClassifyIpTest, Ipv6) {
  ExpectRange(IpRange::kPublic, {"2001:4860:4860::8888", "2400:3200::1", "2a00:1450::1",
                                 "2001:200::1", "3ffe::1"});
  ExpectRange(IpRange::kLoopback, {"::1", "[::1]"});
  ExpectRange(IpRange::kPrivate, {"fc00::1", "fd12:3456::1", "fdff:ffff::1", "fec0::1"});
  ExpectRange(IpRange::kLinkLocal, {"fe80::1", "febf::1", "fe80::1%eth0", "[fe80::1%25eth0]"});
  ExpectRange(IpRange::kThisNetwork, {"::"});
  ExpectRange(IpRange::kMulticast, {"ff02::1", "ff0e::1"});
  ExpectRange(IpRange::kReserved, {"2001:db8::1", "2001::1", "2001:1ff::1", "100::1", "::2",
                                   "::127.0.0.1", "64:ff9b:1::1", "3fff::1", "::ffff:0:1.2.3.4",
                                   "4000::1", "1::1"});
}

TEST(ClassifyIpTest, Ipv6CarryingIpv4IsClassifiedByTheIpv4Address) {
  // IPv4-mapped: the kernel connects to the IPv4 address itself.
  ExpectRange(IpRange::kLoopback, {"::ffff:127.0.0.1", "::ffff:7f00:1"});
  ExpectRange(IpRange::kPrivate, {"::ffff:10.1.2.3", "::ffff:172.16.0.1", "::ffff:192.168.1.1"});
  ExpectRange(IpRange::kLinkLocal, {"::ffff:169.254.169.254", "::ffff:a9fe:a9fe"});
  ExpectRange(IpRange::kSharedCgnat, {"::ffff:100.64.0.1"});
  ExpectRange(IpRange::kThisNetwork, {"::ffff:0.0.0.0"});
  ExpectRange(IpRange::kMulticast, {"::ffff:224.0.0.1"});
  ExpectRange(IpRange::kPublic, {"::ffff:8.8.8.8"});
  // NAT64 well-known prefix and 6to4 end up at the embedded address too.
  ExpectRange(IpRange::kLinkLocal, {"64:ff9b::169.254.169.254", "2002:a9fe:a9fe::1"});
  ExpectRange(IpRange::kPrivate, {"64:ff9b::10.0.0.1", "2002:c0a8:101::1"});
  ExpectRange(IpRange::kPublic, {"64:ff9b::8.8.8.8", "2002:808:808::1"});
}

TEST(ClassifyIpTest, RawForms) {
  EXPECT_EQ(ClassifyIpv4(0x7f000001), IpRange::kLoopback);
  EXPECT_EQ(ClassifyIpv4(0xa9fea9fe), IpRange::kLinkLocal);
  EXPECT_EQ(ClassifyIpv4(0x08080808), IpRange::kPublic);
  std::array<uint8_t, 16> v6 = {};
  v6[15] = 1;
  EXPECT_EQ(ClassifyIpv6(v6), IpRange::kLoopback);
}

TEST(ClassifyIpTest, NotAnAddress) {
  for (const char* text : {"", "localhost", "x.aliyuncs.com", "127.1", "0x7f.0.0.1",
                           "1.2.3.4.5", "[::1", "::1]", "256.0.0.1", ":::"}) {
    EXPECT_FALSE(ClassifyIpLiteral(text).has_value()) << text;
  }
}

TEST(AddressPolicyTest, Admits) {
  for (IpRange range : {IpRange::kPublic, IpRange::kLoopback, IpRange::kPrivate,
                        IpRange::kLinkLocal, IpRange::kSharedCgnat, IpRange::kThisNetwork,
                        IpRange::kMulticast, IpRange::kReserved}) {
    EXPECT_TRUE(AddressPolicyAdmits(AddressPolicy::kAny, range));
    EXPECT_EQ(AddressPolicyAdmits(AddressPolicy::kPublicOnly, range), range == IpRange::kPublic)
        << IpRangeName(range);
    EXPECT_EQ(AddressPolicyAdmits(AddressPolicy::kPublicOrLoopback, range),
              range == IpRange::kPublic || range == IpRange::kLoopback)
        << IpRangeName(range);
  }
}

TEST(ParseUrlTest, PartsAsCurlSeesThem) {
  absl::StatusOr<UrlParts> p = ParseUrl("HTTPS://X.Example.COM/a/../b.png?Signature=s#f");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->host, "x.example.com");
  EXPECT_EQ(p->port, 443);
  EXPECT_EQ(p->path, "/b.png");
  EXPECT_FALSE(p->has_user_info);

  p = ParseUrl("http://0x7f.1:8080/");  // curl connects to 127.0.0.1
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->host, "127.0.0.1");
  EXPECT_EQ(p->port, 8080);

  p = ParseUrl("https://%78.example.com/");  // percent-decoded host
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->host, "x.example.com");

  p = ParseUrl("http://[::1]/");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->host, "[::1]");
  EXPECT_EQ(p->port, 80);

  EXPECT_TRUE(ParseUrl("https://u:p@x.example.com/")->has_user_info);
  EXPECT_TRUE(ParseUrl("https://u@x.example.com/")->has_user_info);
  EXPECT_TRUE(ParseUrl("http://[fe80::1%25eth0]/")->has_zone_id);
}

TEST(ParseUrlTest, Invalid) {
  static constexpr char kNul[] = "https://x.example.com\0.evil/";
  for (absl::string_view bad : {absl::string_view("x.example.com/a"), absl::string_view(""),
                                absl::string_view(kNul, sizeof(kNul) - 1),
                                absl::string_view("https://bad host/"),
                                absl::string_view("file:///etc/passwd")}) {
    absl::StatusOr<UrlParts> p = ParseUrl(bad);
    EXPECT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace qwenimage::http
