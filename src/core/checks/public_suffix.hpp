// Public suffix facts from libpsl with the system's Public Suffix List.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

// True when the domain ends in a suffix the Public Suffix List knows
// (an ICANN or private section rule, not only the implicit "*" rule).
bool public_suffix_known(std::string_view ascii_domain);

// The registrable domain (eTLD+1) of an ASCII domain, or "" when the domain
// itself is a public suffix.
std::string registrable_domain(std::string_view ascii_domain);

// The public suffix of an ASCII domain ("co.uk" for "a.b.co.uk").
std::string public_suffix(std::string_view ascii_domain);

}  // namespace mailsentry
