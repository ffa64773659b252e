#include "verdict/verification.hpp"

#include <asio/ip/address.hpp>

#include "checks/disposable.hpp"
#include "checks/public_suffix.hpp"
#include "net/address_policy.hpp"

namespace mailsentry {

namespace {

// "[192.0.2.1]" or "[IPv6:2001:db8::1]": whether the IP is off limits to
// mail (loopback, private, reserved); unparsable counts as off limits.
bool literal_is_off_limits(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '[' || literal.back() != ']') return true;
  std::string_view inside = literal.substr(1, literal.size() - 2);
  if (constexpr std::string_view tag = "IPv6:"; inside.substr(0, tag.size()) == tag)
    inside.remove_prefix(tag.size());
  std::error_code error;
  const asio::ip::address ip = asio::ip::make_address(std::string(inside), error);
  return error || !forbidden_reason(ip).empty();
}

}  // namespace

std::string_view level_name(VerificationLevel level) {
  switch (level) {
    case VerificationLevel::confirmed:
      return "confirmed";
    case VerificationLevel::inferred:
      return "inferred";
    case VerificationLevel::estimated:
      return "estimated";
  }
  return "estimated";
}

Verification check_offline(std::string_view input, const Lists& lists, TypoMemo* typo_memo) {
  Verification v;
  v.address = parse_address(input);
  v.typo = suggest_typo(input, lists, typo_memo);
  if (!v.address.valid) return v;

  v.checks_ran = true;
  const ParsedAddress& a = v.address;
  v.suffix_known = a.address_literal || public_suffix_known(a.domain);
  v.is_disposable = !a.address_literal && is_disposable_domain(a.domain, lists);
  v.literal_off_limits = a.address_literal && literal_is_off_limits(a.domain);
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
