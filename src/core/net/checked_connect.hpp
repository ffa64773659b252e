// TCP connect that only ever reaches addresses the AddressPolicy allows: the
// check runs on each endpoint right before it is tried, so the address
// actually connected to is the one that was checked.
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "net/address_policy.hpp"

namespace mailsentry {

// Stops an operation in flight; its completion still runs (with an error).
class CancellableOperation {
 public:
  virtual ~CancellableOperation() = default;
  virtual void cancel() = 0;
};

// `done(error, refusal)`: `refusal` is the policy's warning when every
// address was refused (error is then set too).
void async_connect_allowed(asio::ip::tcp::socket& socket,
                           const std::vector<asio::ip::address>& addresses, std::uint16_t port,
                           const AddressPolicy& policy,
                           std::function<void(std::error_code, std::string refusal)> done);

}  // namespace mailsentry
