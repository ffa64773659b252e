#include "net/dns_servers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace mailsentry {
namespace {

bool is_ipv4_literal(const std::string& text) {
  in_addr parsed{};
  return inet_pton(AF_INET, text.c_str(), &parsed) == 1;
}

bool is_ipv6_literal(const std::string& text) {
  in6_addr parsed{};
  return inet_pton(AF_INET6, text.c_str(), &parsed) == 1;
}

std::uint16_t parse_port(std::string_view text, std::string_view item) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::invalid_argument("bad DNS server port in \"" + std::string(item) + "\"");
  }
  const unsigned long port = std::stoul(std::string(text));
  if (port == 0 || port > 65535) {
    throw std::invalid_argument("DNS server port out of range in \"" + std::string(item) + "\"");
  }
  return static_cast<std::uint16_t>(port);
}

DnsServerAddress parse_one_server(std::string_view item) {
  const std::string quoted = "\"" + std::string(item) + "\"";
  if (item.empty()) throw std::invalid_argument("empty DNS server entry");
  DnsServerAddress server;
  if (item.front() == '[') {  // [v6] or [v6]:port
    const auto close = item.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated '[' in DNS server " + quoted);
    }
    server.host = std::string(item.substr(1, close - 1));
    const std::string_view rest = item.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::invalid_argument("bad DNS server " + quoted);
      server.port = parse_port(rest.substr(1), item);
    }
    if (!is_ipv6_literal(server.host)) {
      throw std::invalid_argument("not an IPv6 address in DNS server " + quoted);
    }
    return server;
  }
  const auto first_colon = item.find(':');
  if (first_colon != std::string_view::npos && item.find(':', first_colon + 1) == item.npos) {
    server.host = std::string(item.substr(0, first_colon));  // v4:port
    server.port = parse_port(item.substr(first_colon + 1), item);
  } else {
    server.host = std::string(item);  // v4, or a bare v6 without a port
  }
  if (!is_ipv4_literal(server.host) && !is_ipv6_literal(server.host)) {
    throw std::invalid_argument("DNS server must be an IP address: " + quoted);
  }
  return server;
}

}  // namespace

std::string_view trim_space(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<DnsServerAddress> parse_dns_servers(std::string_view spec) {
  std::vector<DnsServerAddress> servers;
  if (trim_space(spec).empty()) return servers;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = spec.find(',', start);
    const std::string_view item =
        trim_space(spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start));
    servers.push_back(parse_one_server(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return servers;
}

}  // namespace mailsentry
