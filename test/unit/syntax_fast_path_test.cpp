// is_valid_address() must give exactly parse_address().valid, on every
// corpus row, on realistic addresses and on random mutations of them.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "syntax.hpp"

namespace mailsentry {
namespace {

void expect_same(const std::string& address) {
  EXPECT_EQ(is_valid_address(address), parse_address(address).valid) << "address: " << address;
}

TEST(SyntaxFastPath, AgreesOnEveryCorpusRow) {
  for (const auto& row : test::read_corpus("syntax_cases.tsv")) expect_same(row[0]);
}

TEST(SyntaxFastPath, AgreesOnTypicalAndEdgeAddresses) {
  for (const char* address :
       {"jane@acme.com", "Jane.Doe@ACME.COM", "a@b.co", "j..d@acme.com", ".j@acme.com",
        "j.@acme.com", "jane@acme", "jane@acme.123", "jane@acme.test", "jane@acme.TEST",
        "jane@xn--bcher-kva.de", "jane@ab--cd.com", "jane@-acme.com", "jane@acme-.com",
        "jane@acme..com", "jane@.acme.com", "jane@acme.com.", "o'brien+tag@acme.com",
        "jane@localhost", "jane@[192.0.2.1]", "\"jane\"@acme.com", "jane@@acme.com",
        "jane doe@acme.com", "jane@acme.c_m", "jané@acme.com", "jane@bücher.de"})
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

TEST(SyntaxFastPath, AgreesOnRandomMutations) {
  const std::string alphabet = "abcXYZ019.-_+@\"[]: \\\t!#~";
  const std::vector<std::string> seeds = {"jane.doe@acme-widgets.com", "j@x.co", "a.b.c@d.e.f.org"};
  std::mt19937 rng(42);
  for (int i = 0; i < 50000; ++i) {
    std::string address = seeds[rng() % seeds.size()];
    for (int edits = 1 + rng() % 3; edits > 0; --edits) {
      const std::size_t at = rng() % (address.size() + 1);
      switch (rng() % 3) {
        case 0: address.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 1: if (at < address.size()) address.erase(at, 1); break;
        default: if (at < address.size()) address[at] = alphabet[rng() % alphabet.size()]; break;
      }
    }
    expect_same(address);
  }
}

}  // namespace
}  // namespace mailsentry
