// UTF-8 decoding shared by the checks and the PostgreSQL glue.
#pragma once

#include <cstddef>
#include <string_view>

namespace mailsentry {

// Decodes one UTF-8 sequence at text[i] (a non-ASCII lead byte), rejecting
// overlong forms, surrogates and code points above U+10FFFF. Returns the
// sequence length, or 0 if invalid.
inline std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const unsigned char next = byte(i + k);
    const unsigned char low = k == 1 ? min_second : 0x80;
    const unsigned char high = k == 1 ? max_second : 0xBF;
    if (next < low || next > high) return 0;
    cp = (cp << 6) | (next & 0x3F);
  }
  return length;
}

// Length of the valid UTF-8 sequence at text[i] (ASCII: 1), or 0 when the
// bytes there are not valid UTF-8 or are NUL.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return lead == 0 ? 0 : 1;
  char32_t ignored;
  return decode_utf8(text, i, ignored);
}

inline bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace mailsentry
