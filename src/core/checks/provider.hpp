// Free mail providers, plus-addressing and provider format rules.
#pragma once

#include <string>

#include "checks/lists.hpp"
#include "checks/syntax.hpp"

namespace mailsentry {

struct ProviderResult {
  bool is_free = false;
  std::string provider_name;  // "Gmail", "Outlook.com", ... or "" when unknown
  bool is_business = false;   // a domain of its own (not free, not disposable)
  std::string plus_alias;     // the +tag without '+', "" when none
  std::string
      format_violation;  // why the local part breaks the provider's published rules, "" when fine
  bool excessive_dots = false;  // 3+ dots in the local part on a free provider
};

// `is_disposable` is passed in so that is_business can exclude disposable domains.
ProviderResult classify_provider(const ParsedAddress& address, const Lists& lists,
                                 bool is_disposable);

}  // namespace mailsentry
