// Why a value of a mailsentry setting is refused, in a sentence for the
// user; "" when it is accepted. The control-character check that every
// string setting gets comes first and is not repeated here.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

// mailsentry.helo_name: a host name or an address literal (RFC 5321 4.1.1.1).
std::string helo_name_problem(std::string_view name);

// mailsentry.mail_from: a bare address, or "" for the null reverse-path.
std::string mail_from_problem(std::string_view address);

// mailsentry.dns_servers: host[:port],... with IP addresses.
std::string dns_servers_problem(std::string_view servers);

// mailsentry.source_addresses: IP addresses, comma-separated.
std::string source_addresses_problem(std::string_view addresses);

// mailsentry.smtp_timeouts: 1 to 6 timeouts in milliseconds (10-600000).
std::string smtp_timeouts_problem(std::string_view timeouts);

}  // namespace mailsentry
