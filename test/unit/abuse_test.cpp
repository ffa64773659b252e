#include "checks/abuse.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists kLists = Lists::builtin();
  return kLists;
}

AbuseResult abuse(std::string local, std::string domain = "acme.com",
                  std::string gibberish_pattern = "") {
  ParsedAddress parsed;
  parsed.valid = true;
  parsed.local = std::move(local);
  parsed.domain = std::move(domain);
  parsed.domain_unicode = parsed.domain;
  GibberishResult gibberish;
  gibberish.pattern = std::move(gibberish_pattern);
  return assess_abuse(parsed, lists(), gibberish);
}

TEST(Abuse, AbuseDomains) {
  AbuseResult result = abuse("jane", "cock.li");
  EXPECT_TRUE(result.is_toxic);
  EXPECT_EQ(result.abuse_type, "abuse_domain");
  EXPECT_TRUE(abuse("jane", "mx.cock.li").is_toxic);  // parent match
  EXPECT_FALSE(abuse("jane", "notcock.li").is_toxic);
  EXPECT_FALSE(abuse("jane", "gmail.com").is_toxic);
}

TEST(Abuse, TestAccounts) {
  for (auto local : {"test", "TEST", "testing", "test123", "test_2024", "asdf", "qwerty", "foo",
                     "foobar", "fake", "dummy", "test+shop", "test.test", "test.account7"}) {
    AbuseResult result = abuse(local);
    EXPECT_EQ(result.abuse_type, "test_account") << local;
    EXPECT_EQ(result.suspicious_severity, 3) << local;
    EXPECT_FALSE(result.is_toxic) << local;
  }
  for (auto local :
       {"sample", "example", "johndoe", "jane.doe", "john.test", "fake-user", "john_test99"}) {
    AbuseResult result = abuse(local);
    EXPECT_EQ(result.abuse_type, "test_account") << local;
    EXPECT_EQ(result.suspicious_severity, 2) << local;
  }
}

TEST(Abuse, RealNamesAreNotTestAccounts) {
  for (auto local : {"john.smith", "testa", "contest", "tester.jones", "foote", "doe.jane",
                     "mike88jones", "JohnSmith1990", "1534567890", "13912345678"}) {
    AbuseResult result = abuse(local);
    EXPECT_EQ(result.abuse_type, "") << local;
    EXPECT_EQ(result.suspicious_severity, 0) << local;
    EXPECT_FALSE(result.garbled_identifier) << local;
  }
}

TEST(Abuse, KeyboardWalkFromGibberish) {
  AbuseResult result = abuse("zxcvbnm", "acme.com", "keyboard_sequence");
  EXPECT_EQ(result.abuse_type, "keyboard_walk");
  EXPECT_EQ(result.suspicious_severity, 2);
  EXPECT_EQ(abuse("zxcvbnm", "acme.com", "random_characters").abuse_type, "");
  // A test word is the stronger reading of "asdf".
  EXPECT_EQ(abuse("asdf", "acme.com", "keyboard_sequence").abuse_type, "test_account");
}

TEST(Abuse, BotGeneratedIdentifiers) {
  for (auto local : {"3f2504e0-4f89-11d3-9a0c-0305e82c3301",  // UUID
                     "9f86d081884c7d659a2feaa0c55ad015",      // hex digest
                     "a1b2c3d4e5f6a7b8",                      // long hex
                     "user1699999999",                        // Unix time appended
                     "1700000000000",                         // milliseconds
                     "20240131235959",                        // yyyymmddhhmmss
                     "aZ3kL9qPx2Wm",                          // base64-like
                     "x7k2p9q4m1z8"}) {                       // letter/digit alternation
    AbuseResult result = abuse(local);
    EXPECT_TRUE(result.garbled_identifier) << local;
    EXPECT_EQ(result.abuse_type, "bot_generated") << local;
    EXPECT_EQ(result.suspicious_severity, 1) << local;
  }
}

TEST(Abuse, DomainTypeWinsButLocalSeverityStays) {
  AbuseResult result = abuse("test", "cock.li");
  EXPECT_TRUE(result.is_toxic);
  EXPECT_EQ(result.abuse_type, "abuse_domain");
  EXPECT_EQ(result.suspicious_severity, 3);
}

TEST(Abuse, EmptyAndOverlongLocalParts) {
  EXPECT_EQ(abuse("").suspicious_severity, 0);
  EXPECT_EQ(abuse(std::string(300, 'a')).suspicious_severity, 0);
}

}  // namespace
}  // namespace mailsentry
