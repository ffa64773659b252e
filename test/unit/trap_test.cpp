#include "checks/trap.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists kLists = Lists::builtin();
  return kLists;
}

TrapResult trap(std::string local, std::string domain, const Lists& with = lists()) {
  ParsedAddress parsed;
  parsed.valid = true;
  parsed.local = std::move(local);
  parsed.domain = std::move(domain);
  parsed.domain_unicode = parsed.domain;
  return assess_trap(parsed, with);
}

TEST(Trap, ReservedDomains) {
  for (auto domain :
       {"example.com", "example.org", "example.net", "mail.example.com", "foo.test", "host.invalid",
        "localhost", "app.localhost", "docs.example", "x.home.arpa"}) {
    TrapResult result = trap("jane", domain);
    EXPECT_TRUE(result.is_potential_trap) << domain;
    EXPECT_EQ(result.trap_type, "reserved_domain") << domain;
    EXPECT_EQ(result.confidence, 95) << domain;
  }
  EXPECT_EQ(trap("root", "localhost.localdomain").trap_type, "placeholder_domain");
  EXPECT_EQ(trap("root", "localhost.localdomain").confidence, 85);
}

TEST(Trap, OrdinaryAddressesAreNot) {
  for (auto domain : {"gmail.com", "example.co", "examples.com", "testing.com", "contest.org"}) {
    TrapResult result = trap("jane", domain);
    EXPECT_FALSE(result.is_potential_trap) << domain;
    EXPECT_EQ(result.trap_type, "") << domain;
    EXPECT_EQ(result.confidence, 0) << domain;
  }
  EXPECT_FALSE(trap("honeybee", "gmail.com").is_potential_trap);
  EXPECT_FALSE(trap("trapper", "gmail.com").is_potential_trap);
}

TEST(Trap, TrapHostLabels) {
  EXPECT_EQ(trap("jane", "spamtrap.acme.com").trap_type, "trap_label");
  EXPECT_EQ(trap("jane", "mx.honeypot.acme.com").confidence, 60);
  // Only whole labels count, and never the TLD.
  EXPECT_FALSE(trap("jane", "nospamtrap.com").is_potential_trap);
  EXPECT_FALSE(trap("jane", "acme.spamtrap").is_potential_trap);
}

TEST(Trap, HoneypotLocalParts) {
  TrapResult result = trap("spamtrap", "acme.com");
  EXPECT_TRUE(result.is_potential_trap);
  EXPECT_EQ(result.trap_type, "honeypot_local_part");
  EXPECT_EQ(result.confidence, 70);
  EXPECT_EQ(trap("HoneyPot", "acme.com").confidence, 70);
  EXPECT_EQ(trap("spam-trap", "acme.com").confidence, 70);
  EXPECT_EQ(trap("spamtrap+x", "acme.com").confidence, 70);
  EXPECT_EQ(trap("honeypot42", "acme.com").confidence, 60);  // digit suffix
  EXPECT_FALSE(trap("honeypot123456", "acme.com").is_potential_trap);
}

TEST(Trap, PlaceholderLocalParts) {
  TrapResult result = trap("noemail", "gmail.com");
  EXPECT_EQ(result.trap_type, "placeholder_local_part");
  EXPECT_EQ(result.confidence, 50);
  EXPECT_EQ(trap("no-email", "gmail.com").confidence, 50);
  EXPECT_EQ(trap("nobody", "acme.com").trap_type, "placeholder_local_part");
  EXPECT_EQ(trap("devnull", "acme.com").trap_type, "placeholder_local_part");
}

TEST(Trap, BothHalvesStrongerTypeWins) {
  TrapResult result = trap("spamtrap", "example.com");
  EXPECT_EQ(result.trap_type, "reserved_domain");
  EXPECT_EQ(result.confidence, 100);
}

TEST(Trap, AddressLiteralsAndUserEntries) {
  ParsedAddress literal;
  literal.valid = true;
  literal.local = "jane";
  literal.domain = "[192.0.2.1]";
  literal.address_literal = true;
  EXPECT_FALSE(assess_trap(literal, lists()).is_potential_trap);

  Lists copy = Lists::builtin();
  copy.trap_domains.add("traps.acme.com", "");
  copy.trap_local_parts.add("canary", "");
  EXPECT_EQ(trap("jane", "x.traps.acme.com", copy).trap_type, "trap_domain");
  EXPECT_EQ(trap("jane", "x.traps.acme.com", copy).confidence, 80);
  EXPECT_EQ(trap("canary", "acme.com", copy).trap_type, "trap_local_part");
  copy.trap_domains.remove("example.com");
  EXPECT_FALSE(trap("jane", "example.com", copy).is_potential_trap);
}

}  // namespace
}  // namespace mailsentry
