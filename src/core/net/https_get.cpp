// HTTP/1.1 GET over asio (+ asio::ssl), one request per connection.
#include "net/https_get.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include "net/bracketed_host.hpp"

namespace mailsentry {
namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_ip_literal(const std::string& host) {
  std::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

std::optional<std::size_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

std::optional<std::size_t> parse_hex(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return std::nullopt;
    value = value * 16 + static_cast<std::size_t>(digit);
  }
  return value;
}

// Decodes a chunked body starting at raw[0].
HttpParseState decode_chunked(std::string_view raw, bool at_eof, std::size_t max_body_bytes,
                              std::string& body) {
  body.clear();
  std::size_t pos = 0;
  for (;;) {
    std::size_t line_end = raw.find("\r\n", pos);
    if (line_end == std::string_view::npos) {
      return raw.size() - pos > 1024 ? HttpParseState::malformed : HttpParseState::incomplete;
    }
    std::string_view size_line = raw.substr(pos, line_end - pos);
    size_line = trim(size_line.substr(0, size_line.find(';')));  // drop chunk extensions
    std::optional<std::size_t> size = parse_hex(size_line);
    if (!size) return HttpParseState::malformed;
    pos = line_end + 2;
    if (*size == 0) {
      // Optional trailer fields, then an empty line.
      if (raw.substr(pos, 2) == "\r\n" || raw.find("\r\n\r\n", pos) != std::string_view::npos ||
          at_eof) {
        return HttpParseState::complete;
      }
      return HttpParseState::incomplete;
    }
    if (*size > max_body_bytes || body.size() + *size > max_body_bytes) {
      return HttpParseState::too_large;
    }
    if (raw.size() < pos + *size + 2) return HttpParseState::incomplete;
    if (raw.substr(pos + *size, 2) != "\r\n") return HttpParseState::malformed;
    body.append(raw.substr(pos, *size));
    pos += *size + 2;
  }
}

class HttpGetOperation : public OneShotRequest<HttpResponse>,
                         public std::enable_shared_from_this<HttpGetOperation> {
 public:
  HttpGetOperation(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls_context,
                   HttpUrl url, std::vector<asio::ip::address> addresses, HttpGetOptions options,
                   std::function<void(HttpResponse)> done)
      : OneShotRequest(io, std::move(done)),
        tls_context_(std::move(tls_context)),
        stream_(io, *tls_context_),
        url_(std::move(url)),
        addresses_(std::move(addresses)),
        options_(std::move(options)) {}

  void start() {
    auto self = shared_from_this();
    start_deadline(self, options_.timeout);
    async_connect_allowed(stream_.next_layer(), addresses_, url_.port, options_.address_policy,
                          [self](std::error_code error, std::string refusal) {
                            if (self->connected(error, std::move(refusal))) self->start_tls();
                          });
  }

 private:
  void start_tls() {
    if (!url_.tls) return send_request();
    if (!is_ip_literal(url_.host)) {
      // SNI; IP literals must not be sent (RFC 6066 section 3).
      SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str());
    }
    if (options_.verify_tls) {
      stream_.set_verify_mode(asio::ssl::verify_peer);
      stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
    } else {
      stream_.set_verify_mode(asio::ssl::verify_none);
    }
    auto self = shared_from_this();
    stream_.async_handshake(asio::ssl::stream_base::client, [self](const std::error_code& error) {
      if (self->finished()) return;
      if (error) {
        return self->fail("TLS handshake failed: " + error.message(), HttpFailure::unreachable);
      }
      self->send_request();
    });
  }

  void send_request() {
    request_ = "GET " + url_.target + " HTTP/1.1\r\nHost: " + url_.host_header() +
               "\r\nAccept: " + options_.accept +
               "\r\nUser-Agent: mailsentry\r\nConnection: close\r\n\r\n";
    auto self = shared_from_this();
    auto on_written = [self](const std::error_code& error, std::size_t) {
      if (self->finished()) return;
      if (error) return self->fail("sending failed: " + error.message(), HttpFailure::broken);
      self->read_more();
    };
    if (url_.tls) {
      asio::async_write(stream_, asio::buffer(request_), on_written);
    } else {
      asio::async_write(stream_.next_layer(), asio::buffer(request_), on_written);
    }
  }

  void read_more() {
    auto self = shared_from_this();
    auto on_read = [self](const std::error_code& error, std::size_t bytes) {
      self->on_read(error, bytes);
    };
    if (url_.tls) {
      stream_.async_read_some(asio::buffer(chunk_), on_read);
    } else {
      stream_.next_layer().async_read_some(asio::buffer(chunk_), on_read);
    }
  }

  void on_read(const std::error_code& error, std::size_t bytes) {
    if (finished()) return;
    raw_.append(chunk_.data(), bytes);
    // Servers often close TLS without close_notify; the framing tells us
    // whether the body is complete, so a truncated stream counts as EOF.
    bool at_eof = error == asio::error::eof || error == asio::ssl::error::stream_truncated;
    if (error && !at_eof) return fail("reading failed: " + error.message(), HttpFailure::broken);
    if (raw_.size() > options_.max_body_bytes + kMaxHeaderBytes) return fail_too_large();
    HttpResponse response;
    switch (parse_http_response(raw_, at_eof, options_.max_body_bytes, response)) {
      case HttpParseState::complete:
        return finish(std::move(response));
      case HttpParseState::too_large:
        return fail_too_large();
      case HttpParseState::malformed:
        return fail("malformed HTTP response", HttpFailure::broken);
      case HttpParseState::incomplete:
        if (at_eof) return fail("connection closed mid-response", HttpFailure::broken);
        return read_more();
    }
  }

  void fail_too_large() {
    fail("response exceeds " + std::to_string(options_.max_body_bytes) + " bytes",
         HttpFailure::too_large);
  }

  void close_connection() override {
    std::error_code ignored;
    stream_.next_layer().close(ignored);  // Connection: close; no TLS shutdown dance
  }

  std::shared_ptr<asio::ssl::context> tls_context_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  HttpUrl url_;
  std::vector<asio::ip::address> addresses_;
  HttpGetOptions options_;
  std::string request_;
  std::array<char, 16 * 1024> chunk_{};
  std::string raw_;
};

}  // namespace

std::string HttpUrl::host_header() const {
  bool ipv6 = host.find(':') != std::string::npos;
  std::string result = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) result += ":" + std::to_string(port);
  return result;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl result;
  if (url.substr(0, 8) == "https://") {
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    result.tls = false;
    result.port = 80;
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  std::size_t authority_end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, authority_end);
  std::string_view rest = authority_end == std::string_view::npos ? "" : url.substr(authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port_text;
  if (authority.front() == '[') {
    const std::optional<BracketedHost> split = split_bracketed_host(authority);
    if (!split) return std::nullopt;
    result.host = std::string(split->host);
    port_text = split->port.value_or("");
  } else {
    std::size_t colon = authority.find(':');
    result.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (result.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    std::optional<std::size_t> port = parse_decimal(port_text);
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    result.port = static_cast<std::uint16_t>(*port);
  }
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty()) {
    result.target = "/";
  } else if (rest.front() == '?') {
    result.target = "/" + std::string(rest);
  } else {
    result.target = std::string(rest);
  }
  for (char c : result.target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return std::nullopt;  // no header injection
  }
  // The host goes into the Host header, SNI and the resolver: a name of
  // letters, digits, '-', '_' and dots, or an IPv6 literal (a redirect from
  // the wire must not smuggle anything else in).
  const bool bracketed = authority.front() == '[';
  for (char& c : result.host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool name_char =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!name_char && !(bracketed && c == ':')) return std::nullopt;
  }
  if (result.host.size() > 253) return std::nullopt;
  return result;
}

std::shared_ptr<asio::ssl::context> make_tls_client_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  std::error_code ignored;  // without a trust store every verified handshake fails, visibly
  context->set_default_verify_paths(ignored);
  return context;
}

std::shared_ptr<CancellableOperation> http_get(asio::io_context& io,
                                               std::shared_ptr<asio::ssl::context> tls_context,
                                               HttpUrl url,
                                               std::vector<asio::ip::address> addresses,
                                               HttpGetOptions options,
                                               std::function<void(HttpResponse)> done) {
  if (!tls_context) tls_context = make_tls_client_context();
  auto operation =
      std::make_shared<HttpGetOperation>(io, std::move(tls_context), std::move(url),
                                         std::move(addresses), std::move(options), std::move(done));
  operation->start();
  return operation;
}

HttpParseState parse_http_response(std::string_view raw, bool at_eof, std::size_t max_body_bytes,
                                   HttpResponse& response) {
  for (;;) {
    std::size_t header_end = raw.find("\r\n\r\n");
    if (header_end == std::string_view::npos) {
      return raw.size() > kMaxHeaderBytes ? HttpParseState::malformed : HttpParseState::incomplete;
    }
    std::string_view head = raw.substr(0, header_end);
    std::string_view rest = raw.substr(header_end + 4);
    // Status line: "HTTP/1.1 200 OK".
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12 ||
        status_line.find(' ') == std::string_view::npos) {
      return HttpParseState::malformed;
    }
    std::string_view code = status_line.substr(status_line.find(' ') + 1, 3);
    std::optional<std::size_t> status = parse_decimal(code);
    if (!status || *status < 100 || *status > 599) return HttpParseState::malformed;
    if (*status < 200) {  // 1xx interim response: its own header block, then the real one
      raw = rest;
      continue;
    }
    response.status = static_cast<int>(*status);
    std::optional<std::size_t> content_length;
    bool chunked = false;
    std::string_view fields = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
    while (!fields.empty()) {
      std::size_t end = fields.find("\r\n");
      std::string_view field = fields.substr(0, end);
      fields.remove_prefix(end == std::string_view::npos ? fields.size() : end + 2);
      std::size_t colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(field.substr(0, colon));
      std::string_view value = trim(field.substr(colon + 1));
      if (iequals(name, "content-length")) {
        std::optional<std::size_t> length = parse_decimal(value);
        if (!length || (content_length && *content_length != *length)) {
          return HttpParseState::malformed;
        }
        content_length = length;
      } else if (iequals(name, "transfer-encoding")) {
        std::string_view last = value.substr(
            value.find_last_of(',') == std::string_view::npos ? 0 : value.find_last_of(',') + 1);
        chunked = iequals(trim(last), "chunked");
        if (!chunked) return HttpParseState::malformed;  // gzip and friends: not requested
      }
    }
    if (response.status == 204 || response.status == 304) {
      response.body.clear();
      return HttpParseState::complete;
    }
    if (chunked) return decode_chunked(rest, at_eof, max_body_bytes, response.body);
    if (content_length) {
      if (*content_length > max_body_bytes) return HttpParseState::too_large;
      if (rest.size() < *content_length) return HttpParseState::incomplete;
      response.body = std::string(rest.substr(0, *content_length));
      return HttpParseState::complete;
    }
    if (rest.size() > max_body_bytes) return HttpParseState::too_large;
    if (!at_eof) return HttpParseState::incomplete;  // body delimited by the connection's end
    response.body = std::string(rest);
    return HttpParseState::complete;
  }
}

}  // namespace mailsentry
