// A minimal HTTP/1.1 GET client over TLS (or plain http) for RDAP queries:
// one request per connection ("Connection: close"), bounded response size,
// one deadline for the whole exchange, Content-Length and chunked bodies.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
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

struct HttpUrl {
  bool tls = true;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 443;
  std::string target = "/";  // path and query
  std::string host_header() const;
};

// "https://host[:port]/path?query" or "http://..."; nullopt otherwise
// (user info and fragments are not accepted).
std::optional<HttpUrl> parse_http_url(std::string_view url);

struct HttpGetOptions {
  std::chrono::milliseconds timeout{3000};  // connect + TLS + request + response
  std::size_t max_body_bytes = 1024 * 1024;
  bool verify_tls = true;
  AddressPolicy address_policy;
  std::string accept = "application/rdap+json, application/json;q=0.9";
};

// unreachable: connect or TLS handshake failed, or no answer in time;
// broken: not HTTP, reset, or closed mid-response; too_large: body over
// max_body_bytes.
using HttpFailure = RequestFailure;

struct HttpResponse {
  int status = 0;     // 0 when no complete response arrived
  std::string body;   // decoded (chunked framing removed)
  std::string error;  // why there is no response; short, without the host name
  HttpFailure failure = HttpFailure::none;
};

// A TLS client context: system trust store, TLS 1.2 or newer.
std::shared_ptr<asio::ssl::context> make_tls_client_context();

// Connects to `addresses` (already resolved from url.host) on url.port.
// `done` runs exactly once from an io_context handler (unless the
// io_context is destroyed first); cancel() makes it run with an error.
std::shared_ptr<CancellableOperation> http_get(asio::io_context& io,
                                               std::shared_ptr<asio::ssl::context> tls_context,
                                               HttpUrl url,
                                               std::vector<asio::ip::address> addresses,
                                               HttpGetOptions options,
                                               std::function<void(HttpResponse)> done);

// Incremental parsing of a raw HTTP/1.1 response (exposed for unit tests).
enum class HttpParseState { incomplete, complete, malformed, too_large };
HttpParseState parse_http_response(std::string_view raw, bool at_eof, std::size_t max_body_bytes,
                                   HttpResponse& response);

}  // namespace mailsentry
