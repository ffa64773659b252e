#include "net/checked_connect.hpp"

#include <asio/connect.hpp>

namespace mailsentry {

void async_connect_allowed(asio::ip::tcp::socket& socket,
                           const std::vector<asio::ip::address>& addresses, std::uint16_t port,
                           const AddressPolicy& policy,
                           std::function<void(std::error_code, std::string refusal)> done) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  endpoints.reserve(addresses.size());
  for (const asio::ip::address& address : addresses) endpoints.emplace_back(address, port);
  auto first_refusal = std::make_shared<std::string>();
  auto allowed = [policy, first_refusal](const std::error_code&,
                                         const asio::ip::tcp::endpoint& endpoint) {
    std::string refusal = policy.check(endpoint.address());
    if (refusal.empty()) return true;
    if (first_refusal->empty()) *first_refusal = std::move(refusal);
    return false;
  };
  asio::async_connect(socket, endpoints, allowed,
                      [first_refusal, done = std::move(done)](const std::error_code& error,
                                                              const asio::ip::tcp::endpoint&) {
                        // asio reports "not found" when the condition skipped every endpoint.
                        bool all_refused = error == asio::error::not_found;
                        done(error, all_refused ? *first_refusal : std::string());
                      });
}

}  // namespace mailsentry
