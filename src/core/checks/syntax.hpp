// RFC 5321 / RFC 6531 envelope-mailbox syntax and normalisation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailsentry {

// Longer input is rejected before any parsing (the longest usable mailbox is
// 254 octets; the margin leaves room for U-labels longer than their A-labels).
inline constexpr std::size_t kMaxAddressInputOctets = 1024;

struct ParsedAddress {
  bool valid = false;
  std::string error;           // why it is invalid (short English phrase)
  std::string local;           // local part as written but in NFC (quoted form kept), UTF-8
  std::string domain;          // ASCII: lower-cased A-labels, or "[literal]"
  std::string domain_unicode;  // U-label form for display (== domain if ASCII)
  bool quoted_local = false;
  bool utf8_local = false;  // local part needs SMTPUTF8 (non-ASCII after NFC)
  bool address_literal = false;
  std::vector<std::string> warnings;  // valid but unusual ("address literal", ...)

  // local "@" domain, the form every other check and the cache use.
  std::string normalized() const;
};

// Never throws for any input (bad UTF-8, control characters, 1 MB strings:
// all give valid == false with an error). When invalid, only `error` is set.
ParsedAddress parse_address(std::string_view input);

// parse_address(input).valid, without building the parsed form for the
// common case (email_syntax_valid in CHECK constraints and bulk queries).
bool is_valid_address(std::string_view input);

}  // namespace mailsentry
