// Offline half of abuse detection: test accounts, keyboard walks,
// bot-generated identifiers, and known abuse domains.
#pragma once

#include <string>

#include "checks/gibberish.hpp"
#include "checks/lists.hpp"
#include "checks/syntax.hpp"

namespace mailsentry {

struct AbuseResult {
  bool is_toxic = false;  // domain on the abuse list
  std::string
      abuse_type;  // "test_account" | "keyboard_walk" | "bot_generated" | "abuse_domain" | ""
  int suspicious_severity =
      0;  // 0 = none, 1..3 = how strongly the local part looks fake (15/22/30 points)
  bool garbled_identifier = false;  // machine-made identifier (hex/uuid/base64-like local part)
};

// `gibberish` is the result of assess_gibberish() for the same local part, so
// a keyboard walk found there is reported here as an abuse pattern too.
AbuseResult assess_abuse(const ParsedAddress& address, const Lists& lists,
                         const GibberishResult& gibberish);

}  // namespace mailsentry
