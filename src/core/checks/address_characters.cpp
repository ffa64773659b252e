#include "checks/address_characters.hpp"

#include <cstdio>

#include "checks/utf8.hpp"

namespace mailsentry {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Invisible, spacing, bidi, private-use and noncharacter code points: they make
// an address look like something it is not, or cannot be typed back.
// ZWNJ/ZWJ (U+200C/D) stay allowed: several scripts and emoji need them.
constexpr CodePointRange kUnsafeCodePoints[] = {
    {0x0080, 0x00A0},     // C1 controls, NO-BREAK SPACE
    {0x00AD, 0x00AD},     // SOFT HYPHEN
    {0x034F, 0x034F},     // COMBINING GRAPHEME JOINER
    {0x0600, 0x0605},     // Arabic prepended format marks
    {0x061C, 0x061C},     // ARABIC LETTER MARK
    {0x06DD, 0x06DD},     // ARABIC END OF AYAH
    {0x070F, 0x070F},     // SYRIAC ABBREVIATION MARK
    {0x0890, 0x0891},     // Arabic pound/piastre marks above
    {0x08E2, 0x08E2},     // ARABIC DISPUTED END OF AYAH
    {0x115F, 0x1160},     // Hangul choseong/jungseong fillers
    {0x1680, 0x1680},     // OGHAM SPACE MARK
    {0x17B4, 0x17B5},     // Khmer invisible inherent vowels
    {0x180B, 0x180F},     // Mongolian variation selectors, vowel separator
    {0x2000, 0x200B},     // typographic spaces, ZERO WIDTH SPACE
    {0x200E, 0x200F},     // LRM, RLM
    {0x2028, 0x202F},     // line/paragraph separators, bidi embeddings/overrides, NNBSP
    {0x205F, 0x206F},     // MMSP, WORD JOINER, invisible operators, bidi isolates
    {0x3000, 0x3000},     // IDEOGRAPHIC SPACE
    {0x3164, 0x3164},     // HANGUL FILLER
    {0xD800, 0xF8FF},     // surrogates, private use area
    {0xFDD0, 0xFDEF},     // noncharacters
    {0xFEFF, 0xFEFF},     // BYTE ORDER MARK
    {0xFFA0, 0xFFA0},     // HALFWIDTH HANGUL FILLER
    {0xFFF0, 0xFFFD},     // specials, interlinear annotation, REPLACEMENT CHARACTER
    {0x110BD, 0x110BD},   // KAITHI NUMBER SIGN
    {0x110CD, 0x110CD},   // KAITHI NUMBER SIGN ABOVE
    {0x13430, 0x1343F},   // Egyptian hieroglyph format controls
    {0x1BCA0, 0x1BCA3},   // shorthand format controls
    {0x1D173, 0x1D17A},   // musical symbol format controls
    {0xE0000, 0xE007F},   // tag characters
    {0xE01F0, 0x10FFFF},  // default-ignorable reserve, private-use planes 15-16
};

std::string describe_code_point(const char* what, char32_t cp) {
  char text[96];
  std::snprintf(text, sizeof text, "%s (U+%04X)", what, static_cast<unsigned>(cp));
  return text;
}

}  // namespace

bool is_unsafe_code_point(char32_t cp) {
  if ((cp & 0xFFFE) == 0xFFFE) return true;  // U+xFFFE / U+xFFFF noncharacters
  for (const CodePointRange& range : kUnsafeCodePoints) {
    if (cp < range.first) return false;  // table is sorted
    if (cp <= range.last) return true;
  }
  return false;
}

std::string find_forbidden_character(std::string_view input, bool& has_non_ascii) {
  has_non_ascii = false;
  for (std::size_t i = 0; i < input.size();) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    if (c < 0x80) {
      if (c == '\r' || c == '\n')
        return "line break in address (folding whitespace is not allowed)";
      if (c == '\t') return "tab character in address";
      if (c < 0x20 || c == 0x7F) return describe_code_point("control character in address", c);
      ++i;
      continue;
    }
    has_non_ascii = true;
    char32_t cp = 0;
    const std::size_t length = decode_utf8(input, i, cp);
    if (length == 0) return "invalid UTF-8";
    if (cp <= 0x9F) return describe_code_point("control character in address", cp);
    if (is_unsafe_code_point(cp)) {
      return describe_code_point("invisible or unsafe character in address", cp);
    }
    i += length;
  }
  return {};
}

}  // namespace mailsentry
