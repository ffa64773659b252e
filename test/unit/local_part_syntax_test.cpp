// The local-part parsers on their own: where the local part ends, whether it
// is quoted, and the first thing wrong with it; and its NFC form.
#include "checks/local_part_syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsentry {
namespace {

TEST(LocalPartSyntax, DotString) {
  LocalPartSyntax local = parse_dot_string_local_part("first.last@example.com");
  EXPECT_EQ(local.error, "");
  EXPECT_EQ(local.length, 10u);
  EXPECT_FALSE(local.quoted);
  EXPECT_EQ(parse_dot_string_local_part(".a@x.com").error, "local part starts with a dot");
  EXPECT_EQ(parse_dot_string_local_part("a..b@x.com").error, "two dots in a row in local part");
  EXPECT_EQ(parse_dot_string_local_part("a.@x.com").error, "local part ends with a dot");
  EXPECT_EQ(parse_dot_string_local_part("@x.com").error, "empty local part");
  EXPECT_EQ(parse_dot_string_local_part("nobody").error, "missing @");
  EXPECT_EQ(parse_dot_string_local_part("a b@x.com").error, "unquoted space in local part");
  EXPECT_EQ(parse_dot_string_local_part("a,b@x.com").error, "invalid character ',' in local part");
}

TEST(LocalPartSyntax, QuotedString) {
  LocalPartSyntax local = parse_quoted_local_part("\"a b\\\"c\"@x.com");
  EXPECT_EQ(local.error, "");
  EXPECT_TRUE(local.quoted);
  EXPECT_EQ(local.length, 8u);
  EXPECT_EQ(parse_quoted_local_part("\"open@x.com").error, "unclosed quoted string");
  EXPECT_EQ(parse_quoted_local_part("\"a\\").error, "unclosed quoted string");
  EXPECT_EQ(parse_quoted_local_part("\"a\\\x01\"@x.com").error,
            "backslash before a character other than printable ASCII");
  EXPECT_EQ(parse_quoted_local_part("\"a\"").error, "missing @");
  EXPECT_EQ(parse_quoted_local_part("\"a\".b@x.com").error,
            "quoted string must be the whole local part");
  EXPECT_EQ(parse_quoted_local_part("\"a\"b@x.com").error,
            "text after the quoted string in local part");
}

TEST(LocalPartSyntax, NfcForm) {
  std::string local;
  EXPECT_EQ(normalize_local_part("plain", false, local), "");
  EXPECT_EQ(local, "plain");
  // "e" + COMBINING ACUTE ACCENT becomes the precomposed U+00E9.
  EXPECT_EQ(normalize_local_part("caf\x65\xcc\x81", false, local), "");
  EXPECT_EQ(local, "caf\xc3\xa9");
  // U+037E GREEK QUESTION MARK is ';' in NFC, which a dot-string refuses.
  EXPECT_EQ(normalize_local_part("a\xcd\xbe", false, local),
            "invalid character ';' in local part after Unicode normalisation (NFC)");
  // In a quoted string ';' is fine.
  EXPECT_EQ(normalize_local_part("\"a\xcd\xbe\"", true, local), "");
  EXPECT_EQ(local, "\"a;\"");
}

}  // namespace
}  // namespace mailsentry
