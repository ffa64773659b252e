// Typo suggestions for misspelled popular domains, second-level names and TLDs.
#pragma once

#include <string>

#include <string_view>

#include "checks/lists.hpp"

namespace mailsentry {

struct TypoResult {
  bool has_typo = false;
  std::string suggestion;  // whole corrected address, "" when none
  // A near miss of a popular full domain (gmial.com, gmail.co): the "domain
  // typo" of the score model. False for suggestions made only because the
  // suffix does not exist (x.con -> x.com).
  bool domain_typo = false;
};

// `address` is the raw input: it is trimmed and lower-cased here and split at
// its last '@', so that addresses whose syntax is broken only by the typo
// (`jane@gmail.`) still get a suggestion.
TypoResult suggest_typo(std::string_view address, const Lists& lists);

}  // namespace mailsentry
