// The mailsentry.dns_servers setting: IP literals with optional ports,
// "" for the system resolver, and an exception for anything else.
#include "net/dns_servers.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mailsentry {
namespace {

TEST(ParseDnsServers, EmptyMeansSystemResolver) {
  EXPECT_TRUE(parse_dns_servers("").empty());
  EXPECT_TRUE(parse_dns_servers("   ").empty());
}

TEST(ParseDnsServers, AcceptsIpLiteralsWithOptionalPorts) {
  auto one = parse_dns_servers("127.0.0.53");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].host, "127.0.0.53");
  EXPECT_EQ(one[0].port, 53);

  auto two = parse_dns_servers("127.0.0.53:5353, 127.0.0.54");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].host, "127.0.0.53");
  EXPECT_EQ(two[0].port, 5353);
  EXPECT_EQ(two[1].host, "127.0.0.54");
  EXPECT_EQ(two[1].port, 53);

  auto v6 = parse_dns_servers("[::1]:5353");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].host, "::1");
  EXPECT_EQ(v6[0].port, 5353);

  auto bare_v6 = parse_dns_servers("::1,[2001:db8::53]");
  ASSERT_EQ(bare_v6.size(), 2u);
  EXPECT_EQ(bare_v6[0].host, "::1");
  EXPECT_EQ(bare_v6[0].port, 53);
  EXPECT_EQ(bare_v6[1].host, "2001:db8::53");
  EXPECT_EQ(bare_v6[1].port, 53);
}

TEST(ParseDnsServers, RejectsGarbage) {
  for (const char* bad :
       {"localhost", "dns.example.com:53", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:5x", "[::1", "[::1]x", "[::1]:", "[127.0.0.1]:53", "1.2.3", "300.1.1.1",
        "127.0.0.1,,127.0.0.2", "127.0.0.1,", ",", "127.0.0.1:53:53", "[]:53", "1.2.3.4 5"}) {
    EXPECT_THROW(parse_dns_servers(bad), std::invalid_argument) << bad;
  }
}

TEST(ParseDnsServers, TrimSpace) {
  EXPECT_EQ(trim_space(" \t 127.0.0.1 \n"), "127.0.0.1");
  EXPECT_EQ(trim_space("   "), "");
  EXPECT_EQ(trim_space("a b"), "a b");
}

}  // namespace
}  // namespace mailsentry
