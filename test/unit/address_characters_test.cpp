// The one pass over an address for characters it may never contain.
#include "checks/address_characters.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsentry {
namespace {

std::string forbidden(std::string_view input) {
  bool non_ascii = false;
  return find_forbidden_character(input, non_ascii);
}

TEST(AddressCharacters, AsciiControls) {
  EXPECT_EQ(forbidden("a\r\nb@example.com"),
            "line break in address (folding whitespace is not allowed)");
  EXPECT_EQ(forbidden("a\tb@example.com"), "tab character in address");
  EXPECT_EQ(forbidden(std::string("a\0b@example.com", 15)),
            "control character in address (U+0000)");
  EXPECT_EQ(forbidden("a\x7f@example.com"), "control character in address (U+007F)");
}

TEST(AddressCharacters, NonAsciiIsFlaggedAndChecked) {
  bool non_ascii = false;
  EXPECT_EQ(find_forbidden_character("plain@example.com", non_ascii), "");
  EXPECT_FALSE(non_ascii);
  EXPECT_EQ(find_forbidden_character("j\xc3\xb6rg@example.com", non_ascii), "");
  EXPECT_TRUE(non_ascii);
  EXPECT_EQ(forbidden("a\xc3@example.com"), "invalid UTF-8");
  EXPECT_EQ(forbidden("a\xc2\x85@example.com"), "control character in address (U+0085)");
  EXPECT_EQ(forbidden("a\xe2\x80\x8b@example.com"),
            "invisible or unsafe character in address (U+200B)");
}

TEST(AddressCharacters, UnsafeCodePoints) {
  EXPECT_TRUE(is_unsafe_code_point(0x00A0));   // NO-BREAK SPACE
  EXPECT_TRUE(is_unsafe_code_point(0x202E));   // RIGHT-TO-LEFT OVERRIDE
  EXPECT_TRUE(is_unsafe_code_point(0xFEFF));   // BYTE ORDER MARK
  EXPECT_TRUE(is_unsafe_code_point(0x1FFFE));  // a noncharacter outside the table
  EXPECT_TRUE(is_unsafe_code_point(0x10FFFF));
  EXPECT_FALSE(is_unsafe_code_point(0x200C));  // ZWNJ: scripts need it
  EXPECT_FALSE(is_unsafe_code_point(0x200D));  // ZWJ
  EXPECT_FALSE(is_unsafe_code_point(0x00E9));  // e acute
  EXPECT_FALSE(is_unsafe_code_point(0x4E2D));  // a CJK ideograph
}

}  // namespace
}  // namespace mailsentry
