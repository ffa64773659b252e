#include "verification.hpp"

#include "disposable.hpp"
#include "public_suffix.hpp"

namespace mailsentry {

std::string_view level_name(VerificationLevel level) {
  switch (level) {
    case VerificationLevel::confirmed: return "confirmed";
    case VerificationLevel::inferred: return "inferred";
    case VerificationLevel::estimated: return "estimated";
  }
  return "estimated";
}

Verification check_offline(std::string_view input, const Lists& lists) {
  Verification v;
  v.address = parse_address(input);
  v.typo = suggest_typo(input, lists);
  if (!v.address.valid) return v;

  v.checks_ran = true;
  const ParsedAddress& a = v.address;
  v.suffix_known = a.address_literal || public_suffix_known(a.domain);
  v.is_disposable = !a.address_literal && is_disposable_domain(a.domain, lists);
  v.role = classify_role(a.local, lists);
  v.provider = classify_provider(a, lists, v.is_disposable);
  v.gibberish = assess_gibberish(a.local);
  v.trap = assess_trap(a, lists);
  v.abuse = assess_abuse(a, lists, v.gibberish);
  return v;
}

void apply_network_facts(Verification& v, NetworkFacts facts) {
  v.network = std::move(facts);
  v.offline = false;
  // On a catch-all domain the server accepts any name: how likely this one is
  // a real mailbox rests on how natural the local part looks.
  if (v.network.catch_all == true) v.network.catch_all_confidence = v.gibberish.score;
}

bool Verification::fails_fast() const {
  return !address.valid || typo.domain_typo || !provider.format_violation.empty() ||
         role.tier == RoleTier::system;
}

}  // namespace mailsentry
