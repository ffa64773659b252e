#include "verdict/settings_checks.hpp"

#include <asio/ip/address.hpp>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "checks/address_literal.hpp"
#include "checks/comma_list.hpp"
#include "checks/syntax.hpp"
#include "net/dns_resolver.hpp"

namespace mailsentry {

namespace {

constexpr std::size_t kMaxHeloNameOctets = 255;
constexpr std::size_t kMaxLabelOctets = 63;

bool letter_digit_hyphen(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

std::string host_name_problem(std::string_view name) {
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      if (!letter_digit_hyphen(name[i]))
        return "A host name has only letters, digits, hyphens and dots (byte " +
               std::to_string(i + 1) + " is not one).";
      continue;
    }
    const std::string_view label = name.substr(label_start, i - label_start);
    if (label.empty() || label.size() > kMaxLabelOctets || label.front() == '-' ||
        label.back() == '-')
      return "Each label of a host name has 1 to 63 characters and neither starts nor ends with a "
             "hyphen.";
    label_start = i + 1;
  }
  return "";
}

}  // namespace

std::string helo_name_problem(std::string_view name) {
  if (name.empty()) return "The name is empty.";
  if (name.size() > kMaxHeloNameOctets)
    return "The name is " + std::to_string(name.size()) + " bytes long; at most " +
           std::to_string(kMaxHeloNameOctets) + " are allowed.";
  if (name.front() != '[') return host_name_problem(name);
  std::string canonical;
  const LiteralCheck literal =
      name.back() == ']' ? check_address_literal(name.substr(1, name.size() - 2), canonical)
                         : LiteralCheck{false, "no closing bracket"};
  if (literal.ok) return "";
  return "Not an address literal: " + std::string(literal.error) + ".";
}

std::string mail_from_problem(std::string_view address) {
  if (address.empty()) return "";
  if (address.find_first_of(" <>") != std::string_view::npos)
    return "The address has a space or an angle bracket.";
  const ParsedAddress parsed = parse_address(address);
  if (parsed.valid) return "";
  return "Not an email address: " + parsed.error + ".";
}

std::string dns_servers_problem(std::string_view servers) {
  try {
    parse_dns_servers(servers);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string source_addresses_problem(std::string_view addresses) {
  for (const std::string& item : split_list(addresses)) {
    asio::error_code error;
    asio::ip::make_address(item, error);
    if (error) return "\"" + item + "\" is not an IP address";
  }
  return "";
}

std::string smtp_timeouts_problem(std::string_view timeouts) {
  const std::vector<std::string> items = split_list(timeouts);
  for (const std::string& item : items) {
    char* end = nullptr;
    errno = 0;
    const long ms = std::strtol(item.c_str(), &end, 10);
    if (errno != 0 || end == item.c_str() || *end != '\0' || ms < 10 || ms > 600000)
      return "\"" + item + "\" is not a timeout in milliseconds (10-600000)";
  }
  if (items.empty() || items.size() > 6) return "give 1 to 6 timeouts, e.g. '1500,2500,3500'";
  return "";
}

}  // namespace mailsentry
