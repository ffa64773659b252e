// Typo suggestions for misspelled popular domains, second-level names and TLDs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

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

// What the check makes of a domain alone: the domain to suggest, if any.
struct DomainTypo {
  bool has_typo = false;
  std::string domain;
  bool domain_typo = false;
};

// The domain part of the check, remembered per domain as written (lower-cased,
// trailing dots kept) for ONE state of the lists: its owner clears it when the
// lists change. Verifying many addresses of a few domains (cache hits, above
// all) repeats the edit distances against the popular domains otherwise.
class TypoMemo {
 public:
  const DomainTypo* find(std::string_view domain_as_written) const;
  void remember(std::string_view domain_as_written, DomainTypo typo);
  void clear();

 private:
  static constexpr std::size_t kMaxDomains = 4096;
  std::unordered_map<std::string, DomainTypo> by_domain_;
  mutable std::string key_;
};

// `address` is the raw input: it is trimmed and lower-cased here and split at
// its last '@', so that addresses whose syntax is broken only by the typo
// (`jane@gmail.`) still get a suggestion. With a memo, a domain's part of the
// check is taken from it (or added to it).
TypoResult suggest_typo(std::string_view address, const Lists& lists);
TypoResult suggest_typo(std::string_view address, const Lists& lists, TypoMemo* memo);

}  // namespace mailsentry
