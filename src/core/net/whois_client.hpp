// WHOIS (RFC 3912) client: TCP port 43, send the query and CRLF, read the
// answer until the server closes the connection.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address_policy.hpp"
#include "net/checked_connect.hpp"
#include "net/one_shot_request.hpp"

namespace mailsentry {

struct WhoisServer {
  std::string host;
  std::uint16_t port = 43;
};

// "host", "host:port", "[v6]:port" or a bare IPv6 literal; nullopt when malformed.
std::optional<WhoisServer> parse_whois_server(std::string_view spec);

struct WhoisOptions {
  std::chrono::milliseconds timeout{3000};  // connect + query + whole answer
  std::size_t max_response_bytes = 256 * 1024;
  AddressPolicy address_policy;
};

// unreachable: connect failed or no complete answer in time; broken: reset
// while sending or reading; too_large: answer over max_response_bytes.
using WhoisFailure = RequestFailure;

struct WhoisResponse {
  std::string text;
  std::string error;  // set when there is no (complete) answer; short, without the host name
  WhoisFailure failure = WhoisFailure::none;
};

// `done` runs exactly once from an io_context handler (unless the
// io_context is destroyed first); cancel() makes it run with an error.
std::shared_ptr<CancellableOperation> whois_query(asio::io_context& io, WhoisServer server,
                                                  std::vector<asio::ip::address> addresses,
                                                  std::string query, WhoisOptions options,
                                                  std::function<void(WhoisResponse)> done);

// The server a whois.iana.org answer refers to ("refer:" or "whois:"), or "".
std::string whois_referral(std::string_view iana_answer);

}  // namespace mailsentry
