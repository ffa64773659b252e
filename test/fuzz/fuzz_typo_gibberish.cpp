// Network-free checks of the raw input: suggest_typo() with the built-in
// lists, and assess_gibberish() of the local part (and of the whole input).
//
// Checked beyond "no crash, no UB, no leak": a typo result with has_typo set
// has a suggestion (with an '@'), a domain typo is a typo, and a gibberish
// score is in 0..100 with one of the documented patterns.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "checks/gibberish.hpp"
#include "checks/lists.hpp"
#include "checks/typo.hpp"
#include "fuzz_check.hpp"

using mailsentry::fuzz::invariant_broken;

namespace {

const mailsentry::Lists& builtin_lists() {
  static const mailsentry::Lists lists = mailsentry::Lists::builtin();
  return lists;
}

void check_gibberish(std::string_view local) {
  const mailsentry::GibberishResult result = mailsentry::assess_gibberish(local);
  if (result.score < 0 || result.score > 100)
    invariant_broken("gibberish score outside 0..100", local, std::to_string(result.score));
  const std::string& p = result.pattern;
  if (!p.empty() && p != "keyboard_sequence" && p != "repeated_chars" && p != "random_characters")
    invariant_broken("unknown gibberish pattern", local, p);
  if (!p.empty() && !result.is_gibberish)
    invariant_broken("gibberish pattern without is_gibberish", local, p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const mailsentry::TypoResult typo = mailsentry::suggest_typo(input, builtin_lists());
  if (typo.has_typo && typo.suggestion.find('@') == std::string::npos)
    invariant_broken("typo without a suggested address", input, typo.suggestion);
  if (!typo.has_typo && !typo.suggestion.empty())
    invariant_broken("suggestion without has_typo", input, typo.suggestion);
  if (typo.domain_typo && !typo.has_typo) invariant_broken("domain_typo without has_typo", input);

  const std::size_t at = input.rfind('@');
  check_gibberish(at == std::string_view::npos ? input : input.substr(0, at));
  check_gibberish(input);
  return 0;
}
