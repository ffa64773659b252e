#include "checks/address_literal.hpp"

#include <cstddef>

namespace mailsentry {
namespace {

constexpr std::string_view kIpv6Tag = "IPv6:";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Counts the IPv6-hex groups of `text` ("" is zero groups); -1 if malformed.
int count_hex_groups(std::string_view text) {
  if (text.empty()) return 0;
  int groups = 0;
  std::size_t digits = 0;
  for (char c : text) {
    if (c == ':') {
      if (digits == 0) return -1;
      ++groups;
      digits = 0;
    } else if (is_hex_digit(c) && digits < 4) {
      ++digits;
    } else {
      return -1;
    }
  }
  if (digits == 0) return -1;
  return groups + 1;
}

}  // namespace

bool is_ipv4_address_literal(std::string_view text) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    int value = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 3) {
      value = value * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0 || value > 255) return false;
    ++parts;
    if (i == text.size()) return parts == 4;
    if (text[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool is_ipv6_address_literal(std::string_view text) {
  // With a trailing IPv4 address, six 16-bit groups remain instead of eight.
  std::string_view hex_part = text;
  int max_groups = 8;
  if (text.find('.') != std::string_view::npos) {
    std::size_t last_colon = text.rfind(':');
    if (last_colon == std::string_view::npos) return false;
    if (!is_ipv4_address_literal(text.substr(last_colon + 1))) return false;
    hex_part = text.substr(0, last_colon + 1);
    // "x:y:" -> "x:y"; but "x::" keeps its "::", which stands for zero groups.
    bool ends_with_double_colon = hex_part.size() >= 2 && hex_part[hex_part.size() - 2] == ':';
    if (!ends_with_double_colon) {
      hex_part.remove_suffix(1);
      if (hex_part.empty()) return false;
    }
    max_groups = 6;
  }

  std::size_t gap = hex_part.find("::");
  if (gap == std::string_view::npos) return count_hex_groups(hex_part) == max_groups;

  // RFC 5321: "::" stands for at least two zero groups, so at most
  // max_groups - 2 groups may be written around it.
  int before = count_hex_groups(hex_part.substr(0, gap));
  int after = count_hex_groups(hex_part.substr(gap + 2));
  if (before < 0 || after < 0) return false;
  return before + after <= max_groups - 2;
}

LiteralCheck check_address_literal(std::string_view inside, std::string& canonical) {
  if (inside.empty()) return {false, "empty address literal"};
  if (starts_with_ignoring_case(inside, kIpv6Tag)) {
    std::string_view address = inside.substr(kIpv6Tag.size());
    if (!is_ipv6_address_literal(address)) return {false, "invalid IPv6 address literal"};
    canonical.reserve(kIpv6Tag.size() + address.size());
    canonical.assign(kIpv6Tag);
    canonical.append(address);
    return {true, {}};
  }
  if (inside.find(':') != std::string_view::npos) {
    return {false, "address literal tag other than IPv6 (only IPv4 and IPv6 literals exist)"};
  }
  if (!is_ipv4_address_literal(inside)) return {false, "invalid IPv4 address literal"};
  canonical.assign(inside);
  return {true, {}};
}

}  // namespace mailsentry
