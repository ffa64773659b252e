// RFC 5321 section 4.1.3 address literals: the text between "[" and "]".
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

struct LiteralCheck {
  bool ok = false;
  std::string_view error;  // static text, set when !ok
};

// True for Snum "." Snum "." Snum "." Snum with every Snum in 0..255.
bool is_ipv4_address_literal(std::string_view text);

// Text after the "IPv6:" tag: IPv6-full, IPv6-comp, IPv6v4-full or IPv6v4-comp.
bool is_ipv6_address_literal(std::string_view text);

// Checks `inside` (the literal without brackets). On success `canonical` gets
// the literal as written, except that the IPv6 tag is spelled "IPv6:".
// Only IPv4 and IPv6 are accepted: no other Standardized-tag is registered.
LiteralCheck check_address_literal(std::string_view inside, std::string& canonical);

}  // namespace mailsentry
