#include "checks/syntax.hpp"

#include <array>

#include "checks/address_characters.hpp"
#include "checks/domain_syntax.hpp"
#include "checks/local_part_syntax.hpp"
#include "checks/syntax_rules.hpp"

namespace mailsentry {
namespace {

ParsedAddress invalid(std::string error) {
  ParsedAddress result;
  result.error = std::move(error);
  return result;
}

}  // namespace

std::string ParsedAddress::normalized() const {
  std::string text;
  text.reserve(local.size() + 1 + domain.size());
  text += local;
  text += '@';
  text += domain;
  return text;
}

ParsedAddress parse_address(std::string_view input) {
  if (input.empty()) return invalid("empty address");
  if (input.size() > kMaxAddressInputOctets) return invalid("input too long");
  if (input.front() == ' ' || input.back() == ' ') return invalid("leading or trailing space");

  bool has_non_ascii = false;
  std::string error = find_forbidden_character(input, has_non_ascii);
  if (!error.empty()) return invalid(std::move(error));
  if (input.front() == '<' || input.back() == '>') {
    return invalid(kNoDisplayNames);
  }

  LocalPartSyntax local =
      input.front() == '"' ? parse_quoted_local_part(input) : parse_dot_string_local_part(input);
  if (!local.error.empty()) return invalid(std::move(local.error));
  std::string normalized_local;
  error = normalize_local_part(input.substr(0, local.length), local.quoted, normalized_local);
  if (!error.empty()) return invalid(std::move(error));
  if (normalized_local.size() > kMaxLocalOctets) return invalid(kLocalTooLong);

  const std::string_view domain = input.substr(local.length + 1);
  if (domain.empty()) return invalid("missing domain");

  ParsedAddress result;
  error = domain.front() == '[' ? parse_address_literal(domain, result)
                                : parse_domain_name(domain, result);
  if (!error.empty()) return invalid(std::move(error));
  if (normalized_local.size() + 1 + result.domain.size() > kMaxMailboxOctets) {
    return invalid("address longer than 254 octets");
  }

  result.local = std::move(normalized_local);
  result.quoted_local = local.quoted;
  if (local.quoted) {
    result.warnings.emplace_back(result.local.size() == 2 ? "empty quoted local part"
                                                          : "quoted local part");
  }
  result.utf8_local = has_non_ascii && !is_ascii(result.local);
  result.valid = true;
  return result;
}

namespace {

// Byte classes of the fast path: bit 1 = atext (RFC 5322), bit 2 = LDH.
constexpr std::array<unsigned char, 256> kPlainClasses = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = 3;
  for (int c = '0'; c <= '9'; ++c) table[c] = 3;
  for (char c : std::string_view("!#$%&'*+/=?^_`{|}~")) table[static_cast<unsigned char>(c)] = 1;
  table['-'] = 3;
  return table;
}();

bool is_atext(char c) { return kPlainClasses[static_cast<unsigned char>(c)] & 1; }
bool is_ldh(char c) { return kPlainClasses[static_cast<unsigned char>(c)] & 2; }

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != b[i]) return false;
  return true;
}

// The common case without building anything: an ASCII dot-atom local part
// and an LDH domain of 2+ labels with no "--" (so no A-label), and a TLD that
// is not numeric, has no hyphen and is not special-use. True only where
// parse_address() says valid too; false means "not plainly valid: ask
// parse_address()".
bool plainly_valid(std::string_view input) {
  if (input.size() < 3 || input.size() > kMaxMailboxOctets) return false;
  const std::size_t at = input.find('@');
  if (at == std::string_view::npos || at == 0 || at > kMaxLocalOctets) return false;
  const std::string_view local = input.substr(0, at);
  const std::string_view domain = input.substr(at + 1);
  if (domain.empty() || domain.size() > kMaxDomainOctets) return false;

  if (local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    const char c = local[i];
    if (c == '.' ? local[i - 1] == '.' : !is_atext(c)) return false;
  }

  std::size_t label_start = 0;
  int labels = 0;
  std::string_view label;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i < domain.size() && domain[i] != '.') {
      if (!is_ldh(domain[i])) return false;
      continue;
    }
    label = domain.substr(label_start, i - label_start);
    if (label.empty() || label.size() > kMaxLabelOctets) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-') return false;
    ++labels;
    label_start = i + 1;
  }
  if (labels < 2 || is_all_digits(label) || label.find('-') != std::string_view::npos) return false;
  for (std::string_view special : kSpecialUseTlds)
    if (equals_ignoring_ascii_case(label, special)) return false;
  return true;
}

}  // namespace

bool is_valid_address(std::string_view input) {
  return plainly_valid(input) || parse_address(input).valid;
}

}  // namespace mailsentry
