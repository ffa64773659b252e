// forbidden_reason() and AddressPolicy::check(): which addresses the worker
// refuses to connect to, including IPv6 forms that embed an IPv4 address.
#include "net/address_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mailsentry {
namespace {

using Cases = std::vector<std::pair<const char*, const char*>>;

asio::ip::address parse(const char* text) {
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(text, error);
  EXPECT_FALSE(error) << "unparsable test address " << text;
  return address;
}

// Each address must get exactly its expected reason ("" for allowed).
void expect_reasons(const Cases& cases) {
  for (const auto& [text, reason] : cases)
    EXPECT_EQ(forbidden_reason(parse(text)), reason) << "for " << text;
}

TEST(AddressPolicy, SpecialIPv4RangesAreRefused) {
  expect_reasons({
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"10.0.0.1", "private"},
      {"10.255.255.255", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},
      {"169.254.169.254", "link-local"},
      {"100.64.0.1", "shared (carrier-grade NAT)"},
      {"0.0.0.0", "this-network"},
      {"0.1.2.3", "this-network"},
      {"192.0.0.8", "IETF protocol assignment"},
      {"192.0.2.1", "documentation"},
      {"198.51.100.1", "documentation"},
      {"203.0.113.1", "documentation"},
      {"198.18.0.1", "benchmarking"},
      {"198.19.255.255", "benchmarking"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.255", "broadcast"},
  });
}

TEST(AddressPolicy, PublicIPv4IsAllowedUpToTheRangeEdges) {
  expect_reasons({
      {"93.184.216.34", ""},
      {"8.8.8.8", ""},
      {"9.255.255.255", ""},
      {"11.0.0.0", ""},
      {"172.15.255.255", ""},
      {"172.32.0.0", ""},
      {"192.167.255.255", ""},
      {"192.169.0.0", ""},
      {"100.128.0.0", ""},
      {"223.255.255.255", ""},
  });
}

TEST(AddressPolicy, SpecialIPv6RangesAreRefused) {
  expect_reasons({
      {"::1", "loopback"},
      {"::", "unspecified"},
      {"fc00::1", "unique local (private)"},
      {"fdff:ffff::1", "unique local (private)"},
      {"fe80::1", "link-local"},
      {"febf:ffff::1", "link-local"},
      {"fec0::1", "site-local"},
      {"ff02::1", "multicast"},
      {"ff0e::101", "multicast"},
      {"2001:db8::1", "documentation"},
      {"100::1", "discard-only"},
  });
}

TEST(AddressPolicy, PublicIPv6IsAllowed) {
  expect_reasons({
      {"2606:4700::1111", ""},
      {"2001:4860:4860::8888", ""},  // 2001::/16 but outside Teredo's /32
      {"2003::1", ""},               // right after 6to4's 2002::/16
      {"fbff::1", ""},               // right before fc00::/7
      {"2001:db9::1", ""},           // right after documentation
  });
}

TEST(AddressPolicy, IPv4CompatibleIsRefusedWhateverItEmbeds) {
  expect_reasons({
      {"::127.0.0.1", "loopback embedded in IPv4-compatible"},
      {"::10.0.0.1", "private embedded in IPv4-compatible"},
      {"::192.168.0.1", "private embedded in IPv4-compatible"},
      {"::0.0.0.2", "this-network embedded in IPv4-compatible"},
      {"::8.8.8.8", "deprecated IPv4-compatible"},
      {"::93.184.216.34", "deprecated IPv4-compatible"},
  });
}

TEST(AddressPolicy, IPv4MappedIsJudgedByItsIPv4) {
  expect_reasons({
      {"::ffff:127.0.0.1", "loopback embedded in IPv4-mapped"},
      {"::ffff:10.0.0.1", "private embedded in IPv4-mapped"},
      {"::ffff:169.254.169.254", "link-local embedded in IPv4-mapped"},
      {"::ffff:0.0.0.0", "this-network embedded in IPv4-mapped"},
      {"::ffff:93.184.216.34", ""},
  });
}

TEST(AddressPolicy, IPv4TranslatedIsJudgedByItsIPv4) {
  expect_reasons({
      {"::ffff:0:127.0.0.1", "loopback embedded in IPv4-translated"},
      {"::ffff:0:10.0.0.1", "private embedded in IPv4-translated"},
      {"::ffff:0:172.16.5.4", "private embedded in IPv4-translated"},
      {"::ffff:0:93.184.216.34", ""},
  });
}

TEST(AddressPolicy, Nat64WellKnownPrefixIsJudgedByItsIPv4) {
  expect_reasons({
      {"64:ff9b::127.0.0.1", "loopback embedded in NAT64"},
      {"64:ff9b::192.168.1.1", "private embedded in NAT64"},
      {"64:ff9b::93.184.216.34", ""},
  });
}

TEST(AddressPolicy, Nat64OutsideTheWellKnownSlash96IsRefused) {
  expect_reasons({
      // Local-use prefix: 127.0.0.1 at /96 and at /64 (bits 72-103).
      {"64:ff9b:1::7f00:1", "local-use NAT64"},
      {"64:ff9b:1:0:7f:0:100:0", "local-use NAT64"},
      {"64:ff9b:1::5db8:d822", "local-use NAT64"},
      // A public IPv4 in the last 32 bits does not make the rest of the /32 a /96.
      {"64:ff9b:0:0:1::5db8:d822", "reserved"},
  });
}

TEST(AddressPolicy, SixToFourIsRefusedNamingAnEmbeddedRefusedIPv4) {
  expect_reasons({
      {"2002:7f00:0001::1", "loopback embedded in 6to4"},
      {"2002:0a00:0001::", "private embedded in 6to4"},
      {"2002:c0a8:0101::1", "private embedded in 6to4"},
      {"2002:a9fe:a9fe::1", "link-local embedded in 6to4"},
      {"2002:0808:0808::1", "6to4 transition"},
      {"2002:5db8:d822::1", "6to4 transition"},
  });
}

TEST(AddressPolicy, TeredoIsRefusedNamingAnEmbeddedRefusedIPv4) {
  expect_reasons({
      // Server 93.184.216.34; client 127.0.0.1 and 10.0.0.1, stored inverted.
      {"2001:0:5db8:d822::80ff:fffe", "loopback embedded in Teredo client"},
      {"2001:0:5db8:d822:8000:f227:f5ff:fffe", "private embedded in Teredo client"},
      // Server 127.0.0.1 and 192.168.0.1; client 8.8.8.8.
      {"2001:0:7f00:1::f7f7:f7f7", "loopback embedded in Teredo server"},
      {"2001:0:c0a8:1::f7f7:f7f7", "private embedded in Teredo server"},
      // Both public: server 93.184.216.34, client 8.8.8.8.
      {"2001:0:5db8:d822:8000:f227:f7f7:f7f7", "Teredo transition"},
      // 7f00:0001 is client 128.255.255.254 once inverted, not loopback.
      {"2001:0:5db8:d822::7f00:1", "Teredo transition"},
  });
}

TEST(AddressPolicy, CheckRefusesOffLimitsAddressesByDefault) {
  const AddressPolicy policy;
  ASSERT_FALSE(policy.allow_private_networks);
  EXPECT_EQ(policy.check(parse("127.0.0.1")),
            "refused to connect to 127.0.0.1 (loopback address; see "
            "mailsentry.allow_private_networks)");
  EXPECT_EQ(policy.check(parse("2002:7f00:1::1")),
            "refused to connect to 2002:7f00:1::1 (loopback embedded in 6to4 address; see "
            "mailsentry.allow_private_networks)");
  for (const char* text :
       {"::1", "10.0.0.1", "fe80::1", "::ffff:192.168.0.1", "::127.0.0.1", "::ffff:0:127.0.0.1",
        "2002:0808:0808::1", "2001:0:5db8:d822:8000:f227:f7f7:f7f7"})
    EXPECT_NE(policy.check(parse(text)), "") << "for " << text;
  for (const char* text : {"93.184.216.34", "2606:4700::1111", "::ffff:93.184.216.34"})
    EXPECT_EQ(policy.check(parse(text)), "") << "for " << text;
}

TEST(AddressPolicy, CheckAllowsEverythingWhenPrivateNetworksAreAllowed) {
  AddressPolicy policy;
  policy.allow_private_networks = true;
  for (const char* text :
       {"127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "169.254.169.254", "fc00::1", "fe80::1",
        "224.0.0.1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:0:127.0.0.1", "2002:7f00:0001::1",
        "2001:0:5db8:d822::80ff:fffe", "64:ff9b:1::7f00:1", "93.184.216.34", "2606:4700::1111"})
    EXPECT_EQ(policy.check(parse(text)), "") << "for " << text;
}

}  // namespace
}  // namespace mailsentry
