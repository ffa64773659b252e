// The DNS servers setting (mailsentry.dns_servers): "host[:port],..." with
// "[v6]:port" for IPv6; each host must be an IP address literal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailsentry {

struct DnsServerAddress {
  std::string host;  // an IP address literal
  std::uint16_t port = 53;
};

// "" means the system resolver. Throws std::invalid_argument on bad input.
std::vector<DnsServerAddress> parse_dns_servers(std::string_view spec);

// Without leading and trailing white space.
std::string_view trim_space(std::string_view text);

}  // namespace mailsentry
