// Which IP addresses the worker may connect to. By default none that is
// loopback, private, link-local, multicast or otherwise reserved, so that a
// database user cannot turn the worker into an internal port scanner. The
// check is made on the address actually connected to (no DNS rebinding).
//
// IPv6 forms that carry an IPv4 address are judged so that none of them is a
// back door to a refused IPv4 range:
// - IPv4-mapped ::ffff:a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d and NAT64
//   64:ff9b::a.b.c.d reach (or are translated to) the embedded IPv4 address,
//   so they get its verdict: refused when it is, allowed when it is public.
// - IPv4-compatible ::a.b.c.d (deprecated, RFC 4291) is refused whatever it
//   embeds: no real host uses it and some stacks tunnel it to the IPv4.
// - 6to4 2002::/16 and Teredo 2001::/32 are refused whatever they embed: a
//   mail server is never reached through a transition relay, and the relay
//   decides where the packets go. The reason names the embedded IPv4 range
//   when that one is refused too ("loopback embedded in 6to4").
// - The local-use NAT64 prefix 64:ff9b:1::/48 is refused: where the IPv4
//   sits depends on the site's prefix length, so it cannot be judged. So is
//   the rest of 64:ff9b::/32 outside the /96, which nothing uses.
// A network-specific NAT64 prefix (a site's own) cannot be recognised; a host
// behind one relies on its translator not reaching private IPv4 ranges.
#pragma once

#include <asio/ip/address.hpp>
#include <string>

namespace mailsentry {

// Why the address is off limits ("loopback", "private", "loopback embedded
// in 6to4", ...), or "" when it is public.
std::string forbidden_reason(const asio::ip::address& address);

struct AddressPolicy {
  bool allow_private_networks = false;
  // "" when the worker may connect; otherwise a warning for the result.
  std::string check(const asio::ip::address& address) const {
    if (allow_private_networks) return {};
    std::string reason = forbidden_reason(address);
    return reason.empty() ? reason
                          : "refused to connect to " + address.to_string() + " (" + reason +
                                " address; see mailsentry.allow_private_networks)";
  }
};

}  // namespace mailsentry
