// is_valid_address() must give exactly parse_address().valid, on every
// corpus row, on realistic addresses and on random mutations of them.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "checks/syntax.hpp"
#include "corpus.hpp"

namespace mailsentry {
namespace {

void expect_same(const std::string& address) {
  EXPECT_EQ(is_valid_address(address), parse_address(address).valid) << "address: " << address;
}

TEST(SyntaxFastPath, AgreesOnEveryCorpusRow) {
  for (const auto& row : test::read_corpus("syntax_cases.tsv")) expect_same(row[0]);
}

TEST(SyntaxFastPath, AgreesOnTypicalAndEdgeAddresses) {
  for (const char* address : {"jane@acme.com",  "Jane.Doe@ACME.COM",     "a@b.co",
                              "j..d@acme.com",  ".j@acme.com",           "j.@acme.com",
                              "jane@acme",      "jane@acme.123",         "jane@acme.test",
                              "jane@acme.TEST", "jane@xn--bcher-kva.de", "jane@ab--cd.com",
                              "jane@-acme.com", "jane@acme-.com",        "jane@acme..com",
                              "jane@.acme.com", "jane@acme.com.",        "o'brien+tag@acme.com",
                              "jane@localhost", "jane@[192.0.2.1]",      "\"jane\"@acme.com",
                              "jane@@acme.com", "jane doe@acme.com",     "jane@acme.c_m",
                              "jané@acme.com",  "jane@bücher.de"})
    expect_same(address);
  expect_same(std::string(64, 'a') + "@acme.com");
  expect_same(std::string(65, 'a') + "@acme.com");
  expect_same("a@" + std::string(63, 'b') + ".com");
  expect_same("a@" + std::string(64, 'b') + ".com");
  std::string long_domain;
  for (int i = 0; i < 125; ++i) long_domain += "b.";
  expect_same("a@" + long_domain + "co");
  expect_same("ab@" + long_domain + "co");
}

// Both paths give `expected`, not merely the same answer.
void expect_both(const std::string& address, bool expected) {
  EXPECT_EQ(is_valid_address(address), expected) << "is_valid_address: " << address;
  EXPECT_EQ(parse_address(address).valid, expected) << "parse_address: " << address;
}

std::string repeat(std::string_view piece, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += piece;
  return text;
}

TEST(SyntaxFastPath, AgreesOnTopLevelLabelRules) {
  for (const char* address : {"a@b.123", "jane@acme.123", "a@1.2.3.4", "a@b.c-d", "a@b.co-uk",
                              "a@b.C-D", "a@b.-cd", "a@b.cd-", "a@b.c--d"})
    expect_both(address, false);
  for (const char* address : {"a@b.xn--p1ai", "a@b.XN--P1AI", "a@[1.2.3.4]", "a@123.com",
                              "a@1.2.3.com", "a@b.a1", "a@c-d.com"})
    expect_both(address, true);
}

TEST(SyntaxFastPath, AgreesOnNfcLocalParts) {
  expect_both("a\u037Eb@example.com", false);                 // ';' in NFC
  expect_both("\"a\u037Eb\"@example.com", true);              // ';' is fine quoted
  expect_both("a\u1FEFb@example.com", true);                  // '`' in NFC
  expect_both(repeat("e\u0301", 32) + "@example.com", true);  // 96 octets, 64 in NFC
  expect_both(repeat("e\u0301", 32) + "a@example.com", false);
  expect_both(repeat("\u0958", 11) + "@example.com", false);  // 33 octets, 66 in NFC
}

TEST(SyntaxFastPath, AgreesOnALabelLengths) {
  expect_both("a@" + std::string(55, 'a') + "\u00FC.de", true);   // 63-octet A-label
  expect_both("a@" + std::string(56, 'a') + "\u00FC.de", false);  // 64-octet A-label
  expect_both("a@" + repeat("\u00FC", 40) + ".de", true);         // 80 octets, A-label 46
  const std::string three_labels =
      std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + ".";
  expect_both("a@" + three_labels + std::string(51, 'd') + "\u00FC.de", false);  // domain: 254
  expect_both("a@" + three_labels + std::string(49, 'd') + "\u00FC.de", true);   // address: 254
  expect_both("a@" + three_labels + std::string(50, 'd') + "\u00FC.de", false);  // address: 255
}

TEST(SyntaxFastPath, AgreesOnRandomMutations) {
  const std::string alphabet = "abcXYZ019.-_+@\"[]: \\\t!#~";
  const std::vector<std::string> seeds = {"jane.doe@acme-widgets.com", "j@x.co", "a.b.c@d.e.f.org"};
  std::mt19937 rng(42);
  for (int i = 0; i < 50000; ++i) {
    std::string address = seeds[rng() % seeds.size()];
    for (int edits = 1 + rng() % 3; edits > 0; --edits) {
      const std::size_t at = rng() % (address.size() + 1);
      switch (rng() % 3) {
        case 0:
          address.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (at < address.size()) address.erase(at, 1);
          break;
        default:
          if (at < address.size()) address[at] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    expect_same(address);
  }
}

}  // namespace
}  // namespace mailsentry
