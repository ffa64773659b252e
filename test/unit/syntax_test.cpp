#include "checks/syntax.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "checks/address_literal.hpp"
#include "corpus.hpp"

namespace mailsentry {
namespace {

// Corpus rows where this module deliberately disagrees with `expected`.
const std::map<std::string, std::string>& deliberate_disagreements() {
  static const std::map<std::string, std::string> rows = {
      {"test@org",
       "dotless domains are rejected: no public mail goes to a bare TLD (RFC 7085, ICANN), and "
       "the corpus itself marks every other dotless domain invalid"},
      {"test@\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606"
       "\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606\U0001F606"
       "\U0001F606.org",
       "emoji are DISALLOWED in IDNA2008 / UTS #46 non-transitional (the row is tagged "
       "idna2008-invalid)"},
      {"test@iana.123",
       "a top-level label is alphabetic (RFC 1123 2.1, RFC 3696 2): an all-numeric TLD is "
       "invalid syntax (the corpus row is tagged conflict: hapi says invalid too)"},
      {"my.s\u0323\u0307.address@1111111111222222222233333333334444444444555555555."
       "6666666666777777777788888888889999999999000000000.11111111112222222222333333333344444444"
       "44555555555.6666666666777777777788888888889999999999000000000.1111111111222222222233333333"
       "334444.info",
       "lengths are measured on the wire form, where the local part is NFC (RFC 6532 3.1): "
       "256 octets as written, 254 in NFC"},
  };
  return rows;
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string text;
  for (std::size_t i = 0; i < times; ++i) text += piece;
  return text;
}

// A domain of exactly `octets` octets: 63-octet labels joined by dots, ending in "com".
std::string domain_of_length(std::size_t octets) {
  std::string domain = "com";
  while (domain.size() < octets) {
    std::size_t room = octets - domain.size() - 1;  // minus the new dot
    std::size_t label = room < 63 ? room : 63;
    if (room > 63 && room - 63 < 2) label = 61;  // keep every label non-empty
    domain = std::string(label, 'a') + "." + domain;
  }
  return domain;
}

void expect_valid(std::string_view address) {
  ParsedAddress parsed = parse_address(address);
  EXPECT_TRUE(parsed.valid) << address << " -> " << parsed.error;
  EXPECT_TRUE(parsed.error.empty()) << address;
}

void expect_invalid(std::string_view address, std::string_view error_part = {}) {
  ParsedAddress parsed = parse_address(address);
  EXPECT_FALSE(parsed.valid) << address;
  EXPECT_FALSE(parsed.error.empty()) << address;
  if (!error_part.empty()) {
    EXPECT_NE(parsed.error.find(error_part), std::string::npos)
        << address << " -> \"" << parsed.error << "\", wanted \"" << error_part << "\"";
  }
  EXPECT_TRUE(parsed.local.empty() && parsed.domain.empty() && parsed.warnings.empty());
}

bool has_warning(const ParsedAddress& parsed, std::string_view warning) {
  for (const std::string& w : parsed.warnings) {
    if (w == warning) return true;
  }
  return false;
}

// ---------------------------------------------------------------- corpus

TEST(SyntaxCorpus, EveryRowAgreesExceptListedDisagreements) {
  const auto rows = test::read_corpus("syntax_cases.tsv");
  ASSERT_EQ(rows.size(), 231u);
  std::size_t disagreements_seen = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const std::string& address = row[0];
    const bool expected_valid = row[1] == "valid";
    ASSERT_TRUE(expected_valid || row[1] == "invalid") << row[1];
    const ParsedAddress parsed = parse_address(address);
    const auto disagreement = deliberate_disagreements().find(address);
    if (disagreement != deliberate_disagreements().end()) {
      ++disagreements_seen;
      EXPECT_NE(parsed.valid, expected_valid) << "listed disagreement now agrees: " << address;
      continue;
    }
    EXPECT_EQ(parsed.valid, expected_valid)
        << "address: [" << address << "] category: " << row[2] << " error: " << parsed.error;
    EXPECT_EQ(parsed.valid, parsed.error.empty()) << address;
  }
  EXPECT_EQ(disagreements_seen, deliberate_disagreements().size());
  EXPECT_LE(deliberate_disagreements().size(), 4u);
}

TEST(SyntaxCorpus, NormalizedFormOfEveryValidRowReparsesToItself) {
  for (const auto& row : test::read_corpus("syntax_cases.tsv")) {
    const ParsedAddress parsed = parse_address(row[0]);
    if (!parsed.valid) continue;
    const ParsedAddress again = parse_address(parsed.normalized());
    EXPECT_TRUE(again.valid) << parsed.normalized() << " -> " << again.error;
    EXPECT_EQ(again.normalized(), parsed.normalized());
  }
}

// ---------------------------------------------------------------- basics

TEST(Syntax, PlainAddress) {
  const ParsedAddress parsed = parse_address("john.smith@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.local, "john.smith");
  EXPECT_EQ(parsed.domain, "example.com");
  EXPECT_EQ(parsed.domain_unicode, "example.com");
  EXPECT_EQ(parsed.normalized(), "john.smith@example.com");
  EXPECT_FALSE(parsed.quoted_local);
  EXPECT_FALSE(parsed.utf8_local);
  EXPECT_FALSE(parsed.address_literal);
  EXPECT_TRUE(parsed.warnings.empty());
}

TEST(Syntax, NormalizationLowersDomainOnly) {
  const ParsedAddress parsed = parse_address("John.SMITH+Tag@Mail.Example.COM");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.normalized(), "John.SMITH+Tag@mail.example.com");
  EXPECT_EQ(parsed.domain_unicode, "mail.example.com");
}

TEST(Syntax, AllAtextCharactersInDotString) {
  expect_valid("!#$%&'*+-/=?^_`{|}~.az.AZ.09@example.com");
}

TEST(Syntax, EmptyAndWhitespace) {
  expect_invalid("", "empty");
  expect_invalid(" ", "space");
  expect_invalid("   ", "space");
  expect_invalid("\t", "tab");
  expect_invalid("\r\n", "line break");
  expect_invalid(" john@example.com", "leading or trailing space");
  expect_invalid("john@example.com ", "leading or trailing space");
  expect_invalid("john smith@example.com", "unquoted space");
  expect_invalid("john@exa mple.com", "space in domain");
  expect_invalid("john@example.com\n", "line break");
}

TEST(Syntax, MissingParts) {
  expect_invalid("john", "missing @");
  expect_invalid("@", "empty local part");
  expect_invalid("@example.com", "empty local part");
  expect_invalid("john@", "missing domain");
  expect_invalid("john@@example.com", "more than one @");
  expect_invalid("a@b@example.com", "more than one @");
}

TEST(Syntax, DotsInLocalPart) {
  expect_invalid(".john@example.com", "starts with a dot");
  expect_invalid("john.@example.com", "ends with a dot");
  expect_invalid("jo..hn@example.com", "two dots in a row");
  expect_valid("j.o.h.n@example.com");
}

TEST(Syntax, CommentsAndDisplayNamesAreRejected) {
  expect_invalid("(comment)john@example.com", "comments");
  expect_invalid("john@(comment)example.com", "comments");
  expect_invalid("john@example.com(comment)", "comments");
  expect_invalid("John <john@example.com>", "angle brackets");
  expect_invalid("<john@example.com>", "angle brackets");
  expect_invalid("\"John\" <john@example.com>", "angle brackets");
}

TEST(Syntax, InvalidLocalCharacters) {
  expect_invalid("jo:hn@example.com", "invalid character ':' in local part");
  expect_invalid("jo,hn@example.com", "','");
  expect_invalid("jo\\hn@example.com", "backslash");
  expect_invalid("jo\"hn@example.com", "quote");
  expect_invalid("jo[hn]@example.com", "'['");
}

// ---------------------------------------------------------------- lengths

TEST(SyntaxLength, LocalPartBoundary) {
  expect_valid(std::string(64, 'a') + "@example.com");
  expect_invalid(std::string(65, 'a') + "@example.com", "local part longer than 64 octets");
  // Octets, not characters: "é" is two octets.
  expect_valid(repeat("\u00E9", 32) + "@example.com");
  expect_invalid(repeat("\u00E9", 32) + "a@example.com", "64 octets");
  // Quotes and backslashes count as written.
  expect_valid("\"" + std::string(62, 'a') + "\"@example.com");
  expect_invalid("\"" + std::string(63, 'a') + "\"@example.com", "64 octets");
}

TEST(SyntaxLength, LabelBoundary) {
  expect_valid("a@" + std::string(63, 'b') + ".com");
  expect_invalid("a@" + std::string(64, 'b') + ".com", "label longer than 63 octets");
  expect_invalid("a@example." + std::string(64, 'c'), "label longer than 63 octets");
}

TEST(SyntaxLength, DomainBoundary) {
  ASSERT_EQ(domain_of_length(252).size(), 252u);
  ASSERT_EQ(domain_of_length(253).size(), 253u);
  ASSERT_EQ(domain_of_length(254).size(), 254u);
  // A 253-octet domain passes the domain rule, but "a@" + it exceeds the 254-octet mailbox.
  expect_valid("a@" + domain_of_length(252));
  expect_invalid("a@" + domain_of_length(253), "address longer than 254 octets");
  expect_invalid("a@" + domain_of_length(254), "domain longer than 253 octets");
}

TEST(SyntaxLength, WholeAddressBoundary) {
  const std::string local(64, 'l');
  expect_valid(local + "@" + domain_of_length(189));  // 64 + 1 + 189 = 254
  expect_invalid(local + "@" + domain_of_length(190), "address longer than 254 octets");
}

TEST(SyntaxLength, DomainLengthIsMeasuredOnTheALabelForm) {
  // 60 x "ü" is 120 UTF-8 octets but its A-label is longer than 63 octets.
  expect_invalid("a@" + repeat("\u00FC", 60) + ".de", "");
  // 4 x "ü" + "x" -> a short A-label: fine.
  expect_valid("a@" + repeat("\u00FC", 4) + "x.de");
}

// `labels` labels of 50 x "ü" (100 UTF-8 octets, a 56-octet A-label) + ".de".
std::string long_unicode_domain(int labels) {
  std::string domain;
  for (int i = 0; i < labels; ++i) domain += repeat("\u00FC", 50) + ".";
  return domain + "de";
}

TEST(SyntaxLength, ShortULabelWithTooLongALabelIsInvalid) {
  // 55 x "a" + "ü": 57 octets in UTF-8, an A-label of exactly 63 octets.
  const ParsedAddress at_limit = parse_address("a@" + std::string(55, 'a') + "\u00FC.de");
  ASSERT_TRUE(at_limit.valid) << at_limit.error;
  EXPECT_EQ(at_limit.domain.find('.'), 63u);
  // 56 x "a" + "ü": 58 octets in UTF-8, well under 63, but a 64-octet A-label.
  expect_invalid("a@" + std::string(56, 'a') + "\u00FC.de",
                 "domain label longer than 63 octets in A-label form");
}

TEST(SyntaxLength, LongULabelWithShortALabelIsValid) {
  // 40 x "ü" is 80 UTF-8 octets; its A-label is 46.
  const ParsedAddress parsed = parse_address("a@" + repeat("\u00FC", 40) + ".de");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain.find('.'), 46u);
}

TEST(SyntaxLength, DomainLimitAppliesToTheALabelForm) {
  // Three 63-octet labels, then 50 or 51 x "d" + "ü" (A-labels of 58 and 59
  // octets), then ".de": 253 and 254 octets as A-labels, 247 and 248 in UTF-8.
  const std::string three_labels =
      std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + ".";
  expect_invalid("a@" + three_labels + std::string(51, 'd') + "\u00FC.de",
                 "domain longer than 253 octets in A-label form");
  // At 253 octets the domain passes; "a@" + it is one octet over the address limit.
  expect_invalid("a@" + three_labels + std::string(50, 'd') + "\u00FC.de",
                 "address longer than 254 octets");
  // Four 100-octet U-labels (406 octets in UTF-8) make 230 octets of A-labels.
  const ParsedAddress long_unicode = parse_address("a@" + long_unicode_domain(4));
  ASSERT_TRUE(long_unicode.valid) << long_unicode.error;
  EXPECT_EQ(long_unicode.domain.size(), 230u);
  expect_invalid("a@" + long_unicode_domain(5), "domain longer than 253 octets in A-label form");
}

TEST(SyntaxLength, AddressLimitAppliesToTheWireForm) {
  // 406 octets as written, 20 + 1 + 230 = 251 on the wire.
  const ParsedAddress parsed = parse_address(std::string(20, 'l') + "@" + long_unicode_domain(4));
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.normalized().size(), 251u);
  expect_valid(std::string(23, 'l') + "@" + long_unicode_domain(4));  // 254
  expect_invalid(std::string(24, 'l') + "@" + long_unicode_domain(4),
                 "address longer than 254 octets");
  // A decomposed local part: 60 octets as written, 40 in NFC.
  const std::string decomposed_local = repeat("e\u0301", 20);
  expect_valid(decomposed_local + "@" + domain_of_length(213));  // 274 written, 254 sent
  expect_invalid(decomposed_local + "@" + domain_of_length(214), "address longer than 254 octets");
  // 254 octets as written, but "üüübcde" (10 octets) is a 14-octet A-label.
  const std::string address =
      std::string(64, 'l') + "@\u00FC\u00FC\u00FCbcde." + domain_of_length(178);
  ASSERT_EQ(address.size(), 254u);
  expect_invalid(address, "address longer than 254 octets");
}

TEST(SyntaxLength, LocalPartLimitAppliesToTheNfcForm) {
  // "e" + COMBINING ACUTE ACCENT is 3 octets; NFC makes it "é", 2 octets.
  const std::string decomposed = repeat("e\u0301", 32);  // 96 octets, 64 in NFC
  const ParsedAddress parsed = parse_address(decomposed + "@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.local, repeat("\u00E9", 32));
  expect_invalid(decomposed + "a@example.com", "local part longer than 64 octets");
  // U+0958 DEVANAGARI LETTER QA is excluded from composition: NFC writes it
  // as two code points, 3 octets become 6.
  expect_valid(repeat("\u0958", 10) + "@example.com");                 // 30 octets, 60 in NFC
  expect_invalid(repeat("\u0958", 11) + "@example.com", "64 octets");  // 33 octets, 66 in NFC
}

TEST(SyntaxLength, HugeInputIsRejectedEarly) {
  const std::string megabyte(1 << 20, 'a');
  expect_invalid(megabyte, "input too long");
  expect_invalid(megabyte + "@example.com", "input too long");
  expect_invalid("a@" + megabyte + ".com", "input too long");
  expect_invalid(std::string(1 << 20, '\x01'), "input too long");
  expect_invalid(std::string(kMaxAddressInputOctets + 1, 'a'), "input too long");
  ParsedAddress at_limit = parse_address(std::string(kMaxAddressInputOctets, 'a'));
  EXPECT_FALSE(at_limit.valid);
  EXPECT_EQ(at_limit.error, "missing @");
}

// ---------------------------------------------------------------- domains

TEST(SyntaxDomain, Hyphens) {
  expect_valid("a@mason-dixon.com");
  expect_valid("a@c--n.com");
  expect_valid("a@a-b-c.d-e.com");
  expect_invalid("a@-example.com", "starts with a hyphen");
  expect_invalid("a@example-.com", "ends with a hyphen");
  expect_invalid("a@sub.-example.com", "starts with a hyphen");
  expect_invalid("a@example.com-", "ends with a hyphen");
  expect_invalid("a@ab--cd.com", "positions 3 and 4");
}

TEST(SyntaxDomain, Dots) {
  expect_invalid("a@.example.com", "starts with a dot");
  expect_invalid("a@example.com.", "ends with a dot");
  expect_invalid("a@example..com", "two dots in a row");
}

TEST(SyntaxDomain, InvalidCharacters) {
  expect_invalid("a@exa_mple.com", "'_'");
  expect_invalid("a@iana/icann.org", "'/'");
  expect_invalid("a@example.com:25", "':'");
  expect_invalid("a@example.com#", "'#'");
  expect_invalid("a@x[1.2.3.4]", "address literal must be the whole domain");
}

TEST(SyntaxDomain, DotlessDomainsAreInvalid) {
  expect_invalid("a@localhost", "no dot");
  expect_invalid("a@com", "no dot");
  expect_invalid("a@org", "no dot");
}

TEST(SyntaxDomain, SpecialUseDomainsAreInvalid) {
  for (const char* tld : {"test", "invalid", "localhost", "local", "onion", "arpa", "alt"}) {
    expect_invalid(std::string("a@example.") + tld, "special-use domain");
  }
  expect_invalid("a@EXAMPLE.TEST", "special-use domain .test");
  expect_valid("a@example.com");
  expect_valid("a@test.example");  // only the TLD matters
  expect_valid("a@testing.com");
}

TEST(SyntaxDomain, NumericTldIsInvalid) {
  expect_invalid("a@b.123", "top-level domain is all digits");
  expect_invalid("a@iana.123", "top-level domain is all digits");
  expect_invalid("a@1.2.3.4", "top-level domain is all digits");  // not an address literal
  expect_invalid("a@example.0", "top-level domain is all digits");
  // Digits elsewhere are fine, and so is a TLD that only contains some.
  expect_valid("a@123.com");
  expect_valid("a@1.2.3.com");
  expect_valid("a@example.a1");
  // The bracketed form is the way to write an IP address.
  expect_valid("a@[1.2.3.4]");
}

TEST(SyntaxDomain, HyphenatedTldIsInvalidUnlessAnALabel) {
  expect_invalid("a@b.c-d", "top-level domain has a hyphen but is not an A-label");
  expect_invalid("a@example.co-uk", "top-level domain has a hyphen");
  expect_invalid("a@EXAMPLE.C-D", "top-level domain has a hyphen");
  expect_valid("a@c-d.example");  // only the TLD matters
  // IDN TLDs: .рф and .中国, written as U-labels or as A-labels.
  const ParsedAddress cyrillic = parse_address("a@example.xn--p1ai");
  ASSERT_TRUE(cyrillic.valid) << cyrillic.error;
  EXPECT_EQ(cyrillic.domain_unicode, "example.\u0440\u0444");
  const ParsedAddress chinese = parse_address("a@example.\u4E2D\u56FD");
  ASSERT_TRUE(chinese.valid) << chinese.error;
  EXPECT_EQ(chinese.domain, "example.xn--fiqs8s");
  expect_valid("a@EXAMPLE.XN--P1AI");
}

TEST(SyntaxDomain, SingleLetterTldIsValid) { expect_valid("a@iana.a"); }

// ---------------------------------------------------------------- IDN

TEST(SyntaxIdn, UnicodeDomainIsConvertedToALabels) {
  const ParsedAddress parsed = parse_address("info@B\u00FCcher.DE");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain, "xn--bcher-kva.de");
  EXPECT_EQ(parsed.domain_unicode, "b\u00FCcher.de");
  EXPECT_EQ(parsed.normalized(), "info@xn--bcher-kva.de");
  EXPECT_FALSE(parsed.utf8_local);
}

TEST(SyntaxIdn, NonTransitionalKeepsSharpS) {
  const ParsedAddress parsed = parse_address("a@fa\u00DF.de");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain, "xn--fa-hia.de");
}

TEST(SyntaxIdn, ALabelInputIsValidatedAndDecoded) {
  const ParsedAddress parsed = parse_address("test@XN--hxajbheg2az3al.xn--jxalpdlp");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain, "xn--hxajbheg2az3al.xn--jxalpdlp");
  EXPECT_EQ(parsed.domain_unicode,
            "\u03C0\u03B1\u03C1\u03AC\u03B4\u03B5\u03B9\u03B3\u03BC\u03B1."
            "\u03B4\u03BF\u03BA\u03B9\u03BC\u03AE");
  expect_invalid("a@xn--0.com", "internationalised domain name");
  expect_invalid("a@xn--a.com", "internationalised domain name");
  expect_invalid("a@xn--abc-.com", "internationalised domain name");  // decodes to ASCII
  expect_invalid("a@xn--ls8h.la", "internationalised domain name");   // emoji A-label
}

TEST(SyntaxIdn, InvalidUnicodeDomains) {
  expect_invalid("a@\U0001F606.org", "internationalised domain name");  // emoji: DISALLOWED
  expect_invalid("a@\u2488wouldbeinvalid.com", "internationalised domain name");
  expect_invalid("a@yy\uFF0D\uFF0D0.tld", "internationalised domain name");
  expect_invalid("a@\uFF0Eleadingdot.com", "starts with a dot");  // fullwidth dot maps to "."
  expect_invalid("a@\u037E.com", "';'");                          // GREEK QUESTION MARK maps to ";"
  expect_invalid("a@\u200Cx.com", "internationalised domain name");  // ZWNJ out of context
}

TEST(SyntaxIdn, MemoisedResultsMatchFreshOnes) {
  // More distinct domains than memo slots, so entries get evicted and reused.
  std::vector<std::string> first_pass;
  for (int i = 0; i < 600; ++i) {
    const ParsedAddress parsed = parse_address("a@b\u00FCcher" + std::to_string(i) + ".de");
    ASSERT_TRUE(parsed.valid) << parsed.error;
    first_pass.push_back(parsed.domain + " " + parsed.domain_unicode);
    expect_invalid("a@xn--0.com", "internationalised domain name");
  }
  for (int i = 599; i >= 0; --i) {
    const ParsedAddress parsed = parse_address("a@b\u00FCcher" + std::to_string(i) + ".de");
    EXPECT_EQ(parsed.domain + " " + parsed.domain_unicode, first_pass[i]);
  }
  EXPECT_EQ(first_pass[7], "xn--bcher7-3ya.de b\u00FCcher7.de");
}

TEST(SyntaxIdn, MappedFullwidthLettersBecomeAscii) {
  const ParsedAddress parsed = parse_address("a@\uFF45xample.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain, "example.com");
}

// ---------------------------------------------------------------- SMTPUTF8

TEST(SyntaxUtf8, NonAsciiLocalPart) {
  const ParsedAddress parsed = parse_address("\u044E\u0437\u0435\u0440@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_TRUE(parsed.utf8_local);
  EXPECT_EQ(parsed.local, "\u044E\u0437\u0435\u0440");
  expect_valid("\u6211\u8CB7@example.com");
  expect_valid("\U0001F600@example.com");
}

TEST(SyntaxUtf8, LocalPartIsCheckedAndKeptInNfc) {
  // U+037E GREEK QUESTION MARK is ';' in NFC, which needs quotes.
  expect_invalid("a\u037Eb@example.com", "invalid character ';' in local part after Unicode");
  expect_invalid("\u037E@example.com", "NFC");
  const ParsedAddress quoted = parse_address("\"a\u037Eb\"@example.com");
  ASSERT_TRUE(quoted.valid) << quoted.error;
  EXPECT_EQ(quoted.local, "\"a;b\"");
  EXPECT_FALSE(quoted.utf8_local);  // nothing non-ASCII is left to send
  // U+1FEF GREEK VARIA is '`' in NFC, which atext allows.
  const ParsedAddress varia = parse_address("a\u1FEFb@example.com");
  ASSERT_TRUE(varia.valid) << varia.error;
  EXPECT_EQ(varia.local, "a`b");
  EXPECT_FALSE(varia.utf8_local);
  // U+212A KELVIN SIGN is "K".
  EXPECT_EQ(parse_address("\u212Aelvin@example.com").local, "Kelvin");
  // U+2000 EN QUAD is U+2002 EN SPACE in NFC: refused either way.
  expect_invalid("a\u2000b@example.com", "unsafe character");
}

TEST(SyntaxUtf8, BothSpellingsOfALocalPartNormalizeAlike) {
  const ParsedAddress composed = parse_address("jos\u00E9@example.com");
  const ParsedAddress decomposed = parse_address("jose\u0301@example.com");
  ASSERT_TRUE(composed.valid) << composed.error;
  ASSERT_TRUE(decomposed.valid) << decomposed.error;
  EXPECT_EQ(decomposed.local, "jos\u00E9");
  EXPECT_EQ(decomposed.normalized(), composed.normalized());
  EXPECT_TRUE(decomposed.utf8_local);
  // Compatibility forms are not folded: NFC, not NFKC (U+FB01 LATIN SMALL LIGATURE FI).
  EXPECT_EQ(parse_address("\uFB01le@example.com").local, "\uFB01le");
}

TEST(SyntaxUtf8, EmojiZwjSequenceIsAllowedInLocalPart) {
  expect_valid("\U0001F468\u200D\U0001F469\u200D\U0001F467@example.com");
}

TEST(SyntaxUtf8, InvalidUtf8IsRejected) {
  for (std::string_view bad :
       {"\x80@example.com", "a\xC3@example.com", "\xC3\x28@example.com", "\xC0\xAF@example.com",
        "\xE0\x80\xAF@example.com", "\xED\xA0\x80@example.com", "\xF4\x90\x80\x80@example.com",
        "\xF8\x88\x80\x80\x80@example.com", "\xFF@example.com", "a@example.co\xC3",
        "a@\xE2\x82.com"}) {
    expect_invalid(bad, "invalid UTF-8");
  }
}

TEST(SyntaxUtf8, UnsafeCodePointsAreRejectedAnywhere) {
  for (std::string_view unsafe : {"\u200B", "\u200E", "\u202E", "\u2066", "\u00A0", "\u00AD",
                                  "\u2028", "\u3000", "\uFEFF", "\uE000", "\uFFFD", "\uFDD0",
                                  "\U000E0041", "\U0010FDEF", "\U0001FFFE", "\u3164", "\u034F"}) {
    const std::string text(unsafe);
    expect_invalid(text + "a@example.com", "unsafe character");
    expect_invalid("a" + text + "b@example.com", "unsafe character");
    expect_invalid("a@exa" + text + "mple.com", "unsafe character");
    expect_invalid("\"a" + text + "\"@example.com", "unsafe character");
  }
  expect_invalid("a\u0085b@example.com", "control character");  // C1
  expect_invalid("a\u009Cb@example.com", "(U+009C)");
}

TEST(SyntaxUtf8, ControlCharactersAreRejectedEverywhere) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string ch(1, static_cast<char>(c));
    expect_invalid(ch + "a@example.com");
    expect_invalid("a" + ch + "b@example.com");
    expect_invalid("a@exa" + ch + "mple.com");
    expect_invalid("\"a" + ch + "\"@example.com");
    expect_invalid("a@example.com" + ch);
  }
  expect_invalid(std::string("a\x7F") + "b@example.com", "control character");
  expect_invalid(std::string_view("a\0b@example.com", 15), "(U+0000)");
}

// ---------------------------------------------------------------- quoted local parts

TEST(SyntaxQuoted, ValidQuotedStrings) {
  const ParsedAddress parsed = parse_address("\"john smith\"@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_TRUE(parsed.quoted_local);
  EXPECT_EQ(parsed.local, "\"john smith\"");
  EXPECT_EQ(parsed.normalized(), "\"john smith\"@example.com");
  EXPECT_TRUE(has_warning(parsed, "quoted local part"));

  expect_valid("\"a\\\"b\"@example.com");  // quoted-pair of '"'
  expect_valid("\"a\\\\b\"@example.com");  // quoted-pair of '\'
  expect_valid("\"a\\ b\"@example.com");   // quoted-pair of space
  expect_valid("\"a@b\"@example.com");     // '@' inside quotes
  expect_valid("\"a..b.\"@example.com");   // dots need no rules inside quotes
  expect_valid("\"(a),[b];<c>:\"@example.com");
}

TEST(SyntaxQuoted, EmptyQuotedLocalPartIsValidWithWarning) {
  const ParsedAddress parsed = parse_address("\"\"@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_TRUE(has_warning(parsed, "empty quoted local part"));
}

TEST(SyntaxQuoted, NonAsciiInsideQuotes) {
  const ParsedAddress parsed = parse_address("\"\u03BB x\"@example.com");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_TRUE(parsed.utf8_local);
  EXPECT_TRUE(parsed.quoted_local);
  // quoted-pairSMTP only escapes printable ASCII.
  expect_invalid("\"\\\u00E9\"@example.com", "backslash");
}

TEST(SyntaxQuoted, InvalidQuotedStrings) {
  expect_invalid("\"abc@example.com", "unclosed quoted string");
  expect_invalid("\"abc\\\"@example.com", "unclosed quoted string");
  expect_invalid("\"abc\\", "unclosed quoted string");
  expect_invalid("\"abc\"", "missing @");
  expect_invalid("\"abc\"def@example.com", "text after the quoted string");
  expect_invalid("\"abc\".def@example.com", "whole local part");
  expect_invalid("abc.\"def\"@example.com", "quote");
  expect_invalid("\"a\"\"b\"@example.com", "text after the quoted string");
}

// ---------------------------------------------------------------- address literals

TEST(SyntaxLiteral, Ipv4) {
  const ParsedAddress parsed = parse_address("a@[192.0.2.1]");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_TRUE(parsed.address_literal);
  EXPECT_TRUE(has_warning(parsed, "address literal"));
  EXPECT_EQ(parsed.domain, "[192.0.2.1]");
  EXPECT_EQ(parsed.domain_unicode, "[192.0.2.1]");
  EXPECT_EQ(parsed.normalized(), "a@[192.0.2.1]");
  expect_valid("a@[0.0.0.0]");
  expect_valid("a@[255.255.255.255]");
  expect_invalid("a@[255.255.255.256]", "IPv4");
  expect_invalid("a@[1.2.3]", "IPv4");
  expect_invalid("a@[1.2.3.4.5]", "IPv4");
  expect_invalid("a@[1.2.3.4.]", "IPv4");
  expect_invalid("a@[1..3.4]", "IPv4");
  expect_invalid("a@[1234.1.1.1]", "IPv4");
  expect_invalid("a@[]", "empty address literal");
}

TEST(SyntaxLiteral, Ipv6Forms) {
  const ParsedAddress parsed = parse_address("a@[ipv6:2001:DB8::1]");
  ASSERT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.domain, "[IPv6:2001:DB8::1]");  // tag normalised, digits as written
  EXPECT_TRUE(parsed.address_literal);

  expect_valid("a@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888]");  // full
  expect_valid("a@[IPv6:::]");
  expect_valid("a@[IPv6:::1]");
  expect_valid("a@[IPv6:1::]");
  expect_valid("a@[IPv6:1111:2222:3333::6666:7777:8888]");         // 6 groups + ::
  expect_valid("a@[IPv6:1111:2222:3333:4444:5555:6666:1.2.3.4]");  // v4 full
  expect_valid("a@[IPv6:::ffff:192.0.2.1]");                       // v4 comp
  expect_valid("a@[IPv6:1111:2222:3333:4444::1.2.3.4]");           // v4 comp, 4 groups
  expect_valid("a@[IPv6:1111::4444:1.2.3.4]");

  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555:6666:7777]", "IPv6");  // 7 groups
  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888:9999]", "IPv6");
  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555:6666::8888]", "IPv6");  // 7 + ::
  expect_invalid("a@[IPv6:1::2::3]", "IPv6");
  expect_invalid("a@[IPv6::1]", "IPv6");
  expect_invalid("a@[IPv6:1:]", "IPv6");
  expect_invalid("a@[IPv6:1::2:]", "IPv6");
  expect_invalid("a@[IPv6:::G]", "IPv6");
  expect_invalid("a@[IPv6:12345::]", "IPv6");
  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555:1.2.3.4]", "IPv6");   // 5 + v4
  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555::1.2.3.4]", "IPv6");  // 5 + :: + v4
  expect_invalid("a@[IPv6:1111:2222:3333:4444:5555:6666:7777:1.2.3.4]", "IPv6");
  expect_invalid("a@[IPv6:::1.2.3.256]", "IPv6");
  expect_invalid("a@[IPv6:]", "IPv6");
}

TEST(SyntaxLiteral, OtherLiteralsAreInvalid) {
  expect_invalid("a@[1111:2222:3333:4444:5555:6666:7777:8888]", "tag other than IPv6");
  expect_invalid("a@[tag:text]", "tag other than IPv6");
  expect_invalid("a@[example.com]", "IPv4");
  expect_invalid("a@[1.2.3.4", "unclosed address literal");
  expect_invalid("a@[1.2.3.4]x", "text after address literal");
  expect_invalid("a@[1.2.3.4].com", "text after address literal");
  expect_invalid("a@[[1.2.3.4]]", "text after address literal");
  expect_invalid("a@[1.2[3.4]", "'[' inside address literal");
  expect_invalid("a@[1.2.3.4] ", "leading or trailing space");
}

TEST(SyntaxLiteral, HelperFunctions) {
  EXPECT_TRUE(is_ipv4_address_literal("10.0.0.1"));
  EXPECT_TRUE(is_ipv4_address_literal("001.002.003.004"));  // Snum = 1*3DIGIT
  EXPECT_FALSE(is_ipv4_address_literal(""));
  EXPECT_FALSE(is_ipv4_address_literal("1.2.3.-4"));
  EXPECT_TRUE(is_ipv6_address_literal("::"));
  EXPECT_FALSE(is_ipv6_address_literal(":::"));
  EXPECT_FALSE(is_ipv6_address_literal(""));
  EXPECT_FALSE(is_ipv6_address_literal("1.2.3.4"));
  EXPECT_FALSE(is_ipv6_address_literal(":1.2.3.4"));
}

// ---------------------------------------------------------------- robustness

TEST(SyntaxRobustness, RandomBytesNeverThrowOrYieldInconsistentResults) {
  std::mt19937 random(20240601);
  const std::string alphabet =
      std::string("a.@\"\\[]:-() xX\x01\x7F\xC3\xA9\xE2\x80\x8B\xFF") + '\0';
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const std::size_t length = random() % 40;
    for (std::size_t i = 0; i < length; ++i) {
      text += (round % 2) ? alphabet[random() % alphabet.size()] : static_cast<char>(random());
    }
    ParsedAddress parsed;
    ASSERT_NO_THROW(parsed = parse_address(text));
    EXPECT_EQ(parsed.valid, parsed.error.empty());
    if (parsed.valid) {
      EXPECT_EQ(parse_address(parsed.normalized()).normalized(), parsed.normalized());
    }
  }
}

TEST(SyntaxRobustness, ManySmallNastyInputs) {
  for (std::string_view text : {"@", "@@", "\"", "\"\"", "\"@", "[", "]", "@[", "@[]", "a@[", "a@]",
                                "a@.", "a@-", "a@xn--", "a@xn--.com", "\\", "a@\xC3",
                                "\xEF\xBB\xBF"
                                "a@example.com"}) {
    ParsedAddress parsed;
    ASSERT_NO_THROW(parsed = parse_address(text));
    EXPECT_FALSE(parsed.valid) << text;
    EXPECT_FALSE(parsed.error.empty()) << text;
  }
}

}  // namespace
}  // namespace mailsentry
