#include "checks/provider.hpp"

#include <cstddef>
#include <string_view>

#include "checks/local_part.hpp"

namespace mailsentry {
namespace {

// Local-part rules the providers publish for new accounts. A violation means
// no account with this name can exist there. Only rules the providers state
// themselves are checked; older accounts may predate some of them, so each
// rule is written to avoid flagging a deliverable address.

// Gmail (Google Account help, "Create a username"): letters, digits and
// periods; 6 to 30 characters; no consecutive periods, none first or last.
// Gmail ignores periods when delivering ("j.o.h.n" reaches "john"), so the
// length is counted without them: extra dots never make an address
// undeliverable. Gmail supports +tags, so the rules apply before the '+'.
std::string_view gmail_violation(std::string_view name) {
  std::size_t letters_and_digits = 0;
  for (char c : name) {
    if (is_ascii_alpha(c) || is_ascii_digit(c)) {
      ++letters_and_digits;
    } else if (c != '.') {
      return "Gmail usernames contain only letters, digits and periods";
    }
  }
  if (name.front() == '.' || name.back() == '.') {
    return "Gmail usernames cannot begin or end with a period";
  }
  if (name.find("..") != std::string_view::npos) {
    return "Gmail usernames cannot contain consecutive periods";
  }
  if (letters_and_digits < 6 || letters_and_digits > 30) {
    return "Gmail usernames are 6 to 30 characters long";
  }
  return {};
}

// Outlook.com / Hotmail (Microsoft account sign-up): letters, digits,
// periods, hyphens and underscores; must start with a letter; at most 64
// characters. Outlook.com supports +tags, so the rules apply before the '+'.
std::string_view outlook_violation(std::string_view name) {
  if (!is_ascii_alpha(name.front())) return "Outlook.com addresses must start with a letter";
  for (char c : name) {
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && !is_local_separator(c)) {
      return "Outlook.com addresses contain only letters, digits, '.', '-' and '_'";
    }
  }
  if (name.size() > 64) return "Outlook.com addresses are at most 64 characters long";
  return {};
}

// Yahoo Mail (Yahoo sign-up help): 4 to 32 characters; letters, digits,
// underscores and one period; must start with a letter. Yahoo has no +tags
// (a '+' is simply not allowed), but its "disposable addresses" take the
// form base-keyword, so only the part before the first '-' is checked.
std::string_view yahoo_violation(std::string_view name, bool has_plus) {
  if (has_plus) return "Yahoo Mail addresses cannot contain '+'";
  name = name.substr(0, name.find('-'));
  if (name.empty() || !is_ascii_alpha(name.front())) {
    return "Yahoo Mail addresses must start with a letter";
  }
  int periods = 0;
  for (char c : name) {
    if (c == '.') {
      ++periods;
    } else if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '_') {
      return "Yahoo Mail addresses contain only letters, digits, '_' and one period";
    }
  }
  if (periods > 1) return "Yahoo Mail addresses contain at most one period";
  if (name.size() < 4 || name.size() > 32)
    return "Yahoo Mail addresses are 4 to 32 characters long";
  return {};
}

std::string_view format_violation(std::string_view provider, const ParsedAddress& address,
                                  const LocalPartKey& key) {
  const bool gmail = provider == "Gmail";
  const bool outlook = provider == "Outlook.com";
  const bool yahoo = provider == "Yahoo Mail";
  if (!gmail && !outlook && !yahoo) return {};
  if (address.quoted_local || address.utf8_local) {
    return "this provider does not allow quoted or non-ASCII local parts";
  }
  if (!key.ok()) return "the local part is empty before its +tag";
  if (gmail) return gmail_violation(key.original());
  if (outlook) return outlook_violation(key.original());
  return yahoo_violation(key.original(), key.has_tag());
}

// Three or more periods in the name before '+' ("j.o.h.n.doe") on a free
// provider: a common way to mint many sign-ups from one Gmail inbox.
constexpr std::size_t kExcessiveDots = 3;

}  // namespace

ProviderResult classify_provider(const ParsedAddress& address, const Lists& lists,
                                 bool is_disposable) {
  ProviderResult result;
  const std::string_view domain = address.domain;
  if (!domain.empty() && !address.address_literal) {
    const auto named = lists.providers.find(domain);
    result.is_free = named.found || lists.free_providers.contains(domain);
    if (named.found) result.provider_name = std::string(named.detail);
  }
  result.is_business = address.valid && !address.address_literal && !domain.empty() &&
                       !result.is_free && !is_disposable;

  const LocalPartKey key(address.local);
  if (key.has_tag() && !key.tag().empty()) result.plus_alias = std::string(key.tag());
  if (!address.local.empty()) {
    result.format_violation = std::string(format_violation(result.provider_name, address, key));
  }
  if (result.is_free && key.ok()) {
    std::size_t dots = 0;
    for (char c : key.original()) dots += (c == '.');
    result.excessive_dots = dots >= kExcessiveDots;
  }
  return result;
}

}  // namespace mailsentry
