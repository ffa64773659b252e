#include "net/whois_client.hpp"

#include <array>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include "net/bracketed_host.hpp"

namespace mailsentry {
namespace {

class WhoisOperation : public OneShotRequest<WhoisResponse>,
                       public std::enable_shared_from_this<WhoisOperation> {
 public:
  WhoisOperation(asio::io_context& io, WhoisServer server, std::vector<asio::ip::address> addresses,
                 std::string query, WhoisOptions options, std::function<void(WhoisResponse)> done)
      : OneShotRequest(io, std::move(done)),
        socket_(io),
        server_(std::move(server)),
        addresses_(std::move(addresses)),
        request_(std::move(query) + "\r\n"),
        options_(std::move(options)) {}

  void start() {
    auto self = shared_from_this();
    start_deadline(self, options_.timeout);
    async_connect_allowed(socket_, addresses_, server_.port, options_.address_policy,
                          [self](std::error_code error, std::string refusal) {
                            if (self->connected(error, std::move(refusal))) self->send_query();
                          });
  }

 private:
  void send_query() {
    auto self = shared_from_this();
    asio::async_write(
        socket_, asio::buffer(request_), [self](const std::error_code& error, std::size_t) {
          if (self->finished()) return;
          if (error) {
            return self->fail("sending failed: " + error.message(), WhoisFailure::broken);
          }
          self->read_more();
        });
  }

  void read_more() {
    auto self = shared_from_this();
    socket_.async_read_some(
        asio::buffer(chunk_), [self](const std::error_code& error, std::size_t bytes) {
          if (self->finished()) return;
          self->answer_.append(self->chunk_.data(), bytes);
          if (self->answer_.size() > self->options_.max_response_bytes) {
            return self->fail(
                "answer exceeds " + std::to_string(self->options_.max_response_bytes) + " bytes",
                WhoisFailure::too_large);
          }
          if (error == asio::error::eof) {
            WhoisResponse response;
            response.text = std::move(self->answer_);
            return self->finish(std::move(response));
          }
          if (error) return self->fail("reading failed: " + error.message(), WhoisFailure::broken);
          self->read_more();
        });
  }

  void close_connection() override {
    std::error_code ignored;
    socket_.close(ignored);
  }

  asio::ip::tcp::socket socket_;
  WhoisServer server_;
  std::vector<asio::ip::address> addresses_;
  std::string request_;
  WhoisOptions options_;
  std::array<char, 8192> chunk_{};
  std::string answer_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<WhoisServer> parse_whois_server(std::string_view spec) {
  spec = trim(spec);
  WhoisServer server;
  std::string_view port_text;
  if (!spec.empty() && spec.front() == '[') {
    const std::optional<BracketedHost> split = split_bracketed_host(spec);
    if (!split || (split->port && split->port->empty())) return std::nullopt;
    server.host = std::string(split->host);
    port_text = split->port.value_or("");
  } else if (spec.find(':') != spec.rfind(':')) {
    server.host = std::string(spec);  // bare IPv6 literal
  } else {
    std::size_t colon = spec.find(':');
    server.host = std::string(spec.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = spec.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
  }
  if (server.host.empty() || server.host.find_first_of(" \t/@") != std::string::npos) {
    return std::nullopt;
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5) return std::nullopt;
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    server.port = static_cast<std::uint16_t>(port);
  }
  for (char& c : server.host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return server;
}

std::shared_ptr<CancellableOperation> whois_query(asio::io_context& io, WhoisServer server,
                                                  std::vector<asio::ip::address> addresses,
                                                  std::string query, WhoisOptions options,
                                                  std::function<void(WhoisResponse)> done) {
  auto operation =
      std::make_shared<WhoisOperation>(io, std::move(server), std::move(addresses),
                                       std::move(query), std::move(options), std::move(done));
  operation->start();
  return operation;
}

std::string whois_referral(std::string_view iana_answer) {
  std::string fallback;
  while (!iana_answer.empty()) {
    std::size_t end = iana_answer.find('\n');
    std::string_view line = trim(iana_answer.substr(0, end));
    iana_answer.remove_prefix(end == std::string_view::npos ? iana_answer.size() : end + 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(trim(line.substr(0, colon)));
    for (char& c : key) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    std::string_view value = trim(line.substr(colon + 1));
    if (value.empty() || value.find_first_of(" \t/@") != std::string_view::npos) continue;
    if (key == "refer") return std::string(value);
    if (key == "whois" && fallback.empty()) fallback = std::string(value);
  }
  return fallback;
}

}  // namespace mailsentry
