// The Public Suffix List signal (libpsl with the system's list).
#include <gtest/gtest.h>

#include "checks/public_suffix.hpp"

namespace mailsentry {
namespace {

TEST(PublicSuffix, KnownSuffixes) {
  EXPECT_TRUE(public_suffix_known("gmail.com"));
  EXPECT_TRUE(public_suffix_known("acme.co.za"));
  EXPECT_TRUE(public_suffix_known("a.b.co.uk"));
  EXPECT_TRUE(public_suffix_known("x.com.uk"));  // under "uk", though com.uk is no rule
  EXPECT_TRUE(public_suffix_known("xn--80ak6aa92e.com"));
  EXPECT_TRUE(public_suffix_known("shop.xn--p1ai"));  // .рф
}

TEST(PublicSuffix, UnknownTopLevelDomains) {
  EXPECT_FALSE(public_suffix_known("x.con"));
  EXPECT_FALSE(public_suffix_known("acme.notatld"));
  EXPECT_FALSE(public_suffix_known("foo.invalid"));
  // The answer per TLD is remembered: asking again gives the same.
  EXPECT_FALSE(public_suffix_known("y.con"));
  EXPECT_TRUE(public_suffix_known("y.com"));
}

TEST(PublicSuffix, RegistrableDomainAndSuffix) {
  EXPECT_EQ(registrable_domain("mail.acme.co.uk"), "acme.co.uk");
  EXPECT_EQ(public_suffix("mail.acme.co.uk"), "co.uk");
  EXPECT_EQ(registrable_domain("com"), "");
}

}  // namespace
}  // namespace mailsentry
