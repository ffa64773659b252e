// Which IP addresses the worker may connect to. By default none that is
// loopback, private, link-local, multicast or otherwise reserved, so that a
// database user cannot turn the worker into an internal port scanner. The
// check is made on the address actually connected to (no DNS rebinding).
#pragma once

#include <asio/ip/address.hpp>
#include <string>

namespace mailsentry {

// Why the address is off limits ("loopback", "private", ...), or "" when it is public.
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
