// The domain of a mailbox: an LDH or IDN name that can receive Internet
// mail, or an address literal ("[192.0.2.1]", "[IPv6:...]").
#pragma once

#include <string>
#include <string_view>

#include "checks/syntax.hpp"

namespace mailsentry {

// Checks a lower-case A-label domain: LDH labels, lengths, at least one dot,
// an alphabetic or A-label TLD that is not special-use. Returns an error or "".
std::string check_ascii_domain(std::string_view domain);

// Fills out.domain and out.domain_unicode for a domain name (U-labels are
// converted to A-labels). Returns an error or "".
std::string parse_domain_name(std::string_view domain, ParsedAddress& out);

// Fills out.domain (canonical form), out.address_literal and a warning for
// "[...]"; `domain` starts with '['. Returns an error or "".
std::string parse_address_literal(std::string_view domain, ParsedAddress& out);

}  // namespace mailsentry
