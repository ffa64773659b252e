// "[host]:port" split for the RDAP URL and WHOIS server parsers.
#include "net/bracketed_host.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

TEST(BracketedHost, HostAndPort) {
  auto split = split_bracketed_host("[2001:db8::1]:4343");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->host, "2001:db8::1");
  ASSERT_TRUE(split->port);
  EXPECT_EQ(*split->port, "4343");
}

TEST(BracketedHost, HostAlone) {
  auto split = split_bracketed_host("[::1]");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->host, "::1");
  EXPECT_FALSE(split->port);
}

TEST(BracketedHost, EmptyPortIsSeen) {
  auto split = split_bracketed_host("[::1]:");
  ASSERT_TRUE(split);
  ASSERT_TRUE(split->port);
  EXPECT_EQ(*split->port, "");
}

TEST(BracketedHost, Malformed) {
  EXPECT_FALSE(split_bracketed_host("[::1"));
  EXPECT_FALSE(split_bracketed_host("[::1]x"));
  EXPECT_FALSE(split_bracketed_host("[::1] :43"));
}

}  // namespace
}  // namespace mailsentry
