#include "checks/domain_syntax.hpp"

#include "checks/address_literal.hpp"
#include "checks/idn.hpp"
#include "checks/syntax_rules.hpp"

namespace mailsentry {

std::string check_ascii_domain(std::string_view domain) {
  if (domain.size() > kMaxDomainOctets) return kDomainTooLong;
  std::size_t label_start = 0;
  for (;;) {
    std::size_t label_end = domain.find('.', label_start);
    const bool last = label_end == std::string_view::npos;
    if (last) label_end = domain.size();
    const std::string_view label = domain.substr(label_start, label_end - label_start);

    if (label.empty()) {
      if (label_start == 0) return "domain starts with a dot";
      if (last) return "domain ends with a dot";
      return "two dots in a row in domain";
    }
    if (label.size() > kMaxLabelOctets) return kLabelTooLong;
    for (char c : label) {
      if (!is_letter_or_digit(c) && c != '-') return describe_bad_char(c, AddressPart::domain);
    }
    if (label.front() == '-') return "domain label starts with a hyphen";
    if (label.back() == '-') return "domain label ends with a hyphen";
    // RFC 5890 2.3.1: "??--" labels are reserved; only "xn--" (A-labels) is in use.
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-' && !starts_with_xn_prefix(label)) {
      return "domain label has \"--\" in positions 3 and 4 but is not an A-label";
    }

    if (last) {
      if (label_start == 0) return "domain has no dot (a bare name cannot receive Internet mail)";
      for (std::string_view special : kSpecialUseTlds) {
        if (label == special) return "special-use domain ." + std::string(special);
      }
      // RFC 1123 2.1: the top-level label is alphabetic, so that a@1.2.3.4
      // cannot pass for an IPv4 address (RFC 3696 2). IDN TLDs are the one
      // exception: their A-labels start with "xn--".
      if (is_all_digits(label)) return "top-level domain is all digits";
      if (label.find('-') != std::string_view::npos && !starts_with_xn_prefix(label)) {
        return "top-level domain has a hyphen but is not an A-label";
      }
      return {};
    }
    label_start = label_end + 1;
  }
}

std::string parse_domain_name(std::string_view domain, ParsedAddress& out) {
  // ASCII-only domains without A-labels skip libidn2, which is slow.
  bool needs_idn = false;
  for (std::size_t i = 0; i < domain.size(); ++i) {
    const char c = domain[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      needs_idn = true;
    } else if (c == '.' || c == '-' || is_letter_or_digit(c)) {
      if ((i == 0 || domain[i - 1] == '.') && starts_with_xn_prefix(domain.substr(i))) {
        needs_idn = true;
      }
    } else {
      return describe_bad_char(c, AddressPart::domain);
    }
  }

  if (!needs_idn) {
    out.domain.resize(domain.size());
    for (std::size_t i = 0; i < domain.size(); ++i) out.domain[i] = to_lower_ascii(domain[i]);
    out.domain_unicode = out.domain;
  } else {
    IdnDomain converted = convert_idn_domain(domain);
    switch (converted.failure) {
      case IdnFailure::none:
        break;
      case IdnFailure::label_too_long:
        return std::string(kLabelTooLong) + " in A-label form";
      case IdnFailure::domain_too_long:
        return std::string(kDomainTooLong) + " in A-label form";
      case IdnFailure::invalid:
        return std::move(converted.error);
    }
    out.domain = std::move(converted.ascii);
    out.domain_unicode = std::move(converted.unicode);
  }
  return check_ascii_domain(out.domain);
}

std::string parse_address_literal(std::string_view domain, ParsedAddress& out) {
  const std::size_t close = domain.find(']');
  if (close == std::string_view::npos) return "unclosed address literal";
  if (close + 1 != domain.size()) return "text after address literal";
  const std::string_view inside = domain.substr(1, close - 1);
  if (inside.find('[') != std::string_view::npos) return "'[' inside address literal";

  std::string canonical;
  const LiteralCheck check = check_address_literal(inside, canonical);
  if (!check.ok) return std::string(check.error);
  out.domain.reserve(canonical.size() + 2);
  out.domain = "[";
  out.domain += canonical;
  out.domain += ']';
  out.domain_unicode = out.domain;
  out.address_literal = true;
  out.warnings.emplace_back("address literal");
  return {};
}

}  // namespace mailsentry
