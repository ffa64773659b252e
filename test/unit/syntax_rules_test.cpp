// The pieces every part of the syntax check shares: the wording of a
// misplaced character (one text per mistake, whichever side of the "@" it is
// on) and the small ASCII tests.
#include "checks/syntax_rules.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

TEST(SyntaxRules, CommentsAndDisplayNamesReadTheSameOnBothSides) {
  for (AddressPart part : {AddressPart::local, AddressPart::domain}) {
    EXPECT_EQ(describe_bad_char('(', part), "comments are not allowed");
    EXPECT_EQ(describe_bad_char(')', part), "comments are not allowed");
    EXPECT_EQ(describe_bad_char('<', part), kNoDisplayNames);
    EXPECT_EQ(describe_bad_char('>', part), kNoDisplayNames);
  }
}

TEST(SyntaxRules, LocalPartCharacters) {
  EXPECT_EQ(describe_bad_char(' ', AddressPart::local), "unquoted space in local part");
  EXPECT_EQ(describe_bad_char('"', AddressPart::local),
            "quote character inside an unquoted local part");
  EXPECT_EQ(describe_bad_char('\\', AddressPart::local), "backslash outside a quoted string");
  EXPECT_EQ(describe_bad_char(',', AddressPart::local), "invalid character ',' in local part");
  EXPECT_EQ(describe_bad_char('@', AddressPart::local), "invalid character '@' in local part");
}

TEST(SyntaxRules, DomainCharacters) {
  EXPECT_EQ(describe_bad_char('@', AddressPart::domain), "more than one @");
  EXPECT_EQ(describe_bad_char(' ', AddressPart::domain), "space in domain");
  EXPECT_EQ(describe_bad_char('[', AddressPart::domain),
            "address literal must be the whole domain");
  EXPECT_EQ(describe_bad_char(']', AddressPart::domain),
            "address literal must be the whole domain");
  EXPECT_EQ(describe_bad_char('_', AddressPart::domain), "invalid character '_' in domain");
  EXPECT_EQ(describe_bad_char('"', AddressPart::domain), "invalid character '\"' in domain");
}

TEST(SyntaxRules, AsciiTests) {
  EXPECT_EQ(to_lower_ascii('Q'), 'q');
  EXPECT_EQ(to_lower_ascii('q'), 'q');
  EXPECT_EQ(to_lower_ascii('['), '[');
  EXPECT_TRUE(is_letter_or_digit('z'));
  EXPECT_TRUE(is_letter_or_digit('Z'));
  EXPECT_TRUE(is_letter_or_digit('0'));
  EXPECT_FALSE(is_letter_or_digit('-'));
  EXPECT_TRUE(is_all_digits("123"));
  EXPECT_FALSE(is_all_digits("12a"));
  EXPECT_TRUE(is_ascii("plain"));
  EXPECT_FALSE(is_ascii("b\xc3\xbc"));
  EXPECT_TRUE(starts_with_xn_prefix("xn--bcher-kva"));
  EXPECT_TRUE(starts_with_xn_prefix("XN--BCHER-KVA"));
  EXPECT_FALSE(starts_with_xn_prefix("xn-"));
  EXPECT_FALSE(starts_with_xn_prefix("ab--cd"));
}

}  // namespace
}  // namespace mailsentry
