// The domain half of the syntax check on its own: LDH rules, lengths,
// special-use and numeric TLDs, IDN conversion and address literals.
#include "checks/domain_syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsentry {
namespace {

TEST(DomainSyntax, AsciiDomainRules) {
  EXPECT_EQ(check_ascii_domain("mail.example.com"), "");
  EXPECT_EQ(check_ascii_domain("xn--bcher-kva.xn--p1ai"), "");
  EXPECT_EQ(check_ascii_domain(".example.com"), "domain starts with a dot");
  EXPECT_EQ(check_ascii_domain("example.com."), "domain ends with a dot");
  EXPECT_EQ(check_ascii_domain("example..com"), "two dots in a row in domain");
  EXPECT_EQ(check_ascii_domain("-a.com"), "domain label starts with a hyphen");
  EXPECT_EQ(check_ascii_domain("a-.com"), "domain label ends with a hyphen");
  EXPECT_EQ(check_ascii_domain("ab--cd.com"),
            "domain label has \"--\" in positions 3 and 4 but is not an A-label");
  EXPECT_EQ(check_ascii_domain("localhost"),
            "domain has no dot (a bare name cannot receive Internet mail)");
  EXPECT_EQ(check_ascii_domain("example.test"), "special-use domain .test");
  EXPECT_EQ(check_ascii_domain("example.123"), "top-level domain is all digits");
  EXPECT_EQ(check_ascii_domain("example.c-m"),
            "top-level domain has a hyphen but is not an A-label");
  EXPECT_EQ(check_ascii_domain("a_b.com"), "invalid character '_' in domain");
  EXPECT_EQ(check_ascii_domain(std::string(64, 'a') + ".com"),
            "domain label longer than 63 octets");
  std::string long_domain;
  for (int i = 0; i < 64; ++i) long_domain += "abc.";
  EXPECT_EQ(check_ascii_domain(long_domain + "com"), "domain longer than 253 octets");
}

TEST(DomainSyntax, NamesAreLowerCasedAndConverted) {
  ParsedAddress out;
  EXPECT_EQ(parse_domain_name("Mail.Example.COM", out), "");
  EXPECT_EQ(out.domain, "mail.example.com");
  EXPECT_EQ(out.domain_unicode, "mail.example.com");
  ParsedAddress idn;
  EXPECT_EQ(parse_domain_name("b\xc3\xbc"
                              "cher.example",
                              idn),
            "");
  EXPECT_EQ(idn.domain, "xn--bcher-kva.example");
  EXPECT_EQ(idn.domain_unicode,
            "b\xc3\xbc"
            "cher.example");
  ParsedAddress bad;
  EXPECT_EQ(parse_domain_name("a@b.com", bad), "more than one @");
  EXPECT_EQ(parse_domain_name("a b.com", bad), "space in domain");
}

TEST(DomainSyntax, AddressLiterals) {
  ParsedAddress out;
  EXPECT_EQ(parse_address_literal("[192.0.2.1]", out), "");
  EXPECT_EQ(out.domain, "[192.0.2.1]");
  EXPECT_TRUE(out.address_literal);
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0], "address literal");
  ParsedAddress bad;
  EXPECT_EQ(parse_address_literal("[192.0.2.1", bad), "unclosed address literal");
  EXPECT_EQ(parse_address_literal("[192.0.2.1]x", bad), "text after address literal");
  EXPECT_EQ(parse_address_literal("[[192.0.2.1]", bad), "'[' inside address literal");
  EXPECT_FALSE(bad.address_literal);
}

}  // namespace
}  // namespace mailsentry
