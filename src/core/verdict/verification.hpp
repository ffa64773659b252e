// One address through every check: the network-free checks run here, the
// network facts are filled in by the worker, and assess() scores the whole.
#pragma once

#include <string>
#include <string_view>

#include "checks/abuse.hpp"
#include "checks/gibberish.hpp"
#include "checks/lists.hpp"
#include "checks/provider.hpp"
#include "checks/role.hpp"
#include "checks/syntax.hpp"
#include "checks/trap.hpp"
#include "checks/typo.hpp"
#include "net/network_facts.hpp"
#include "verdict/score.hpp"

namespace mailsentry {

enum class VerificationLevel { confirmed, inferred, estimated };
std::string_view level_name(VerificationLevel level);

struct Verification {
  ParsedAddress address;
  TypoResult typo;
  // The checks below ran only when the syntax is valid (checks_ran).
  bool checks_ran = false;
  bool suffix_known = false;
  bool is_disposable = false;
  // An address literal whose IP is loopback, private or reserved.
  bool literal_off_limits = false;
  RoleResult role;
  ProviderResult provider;
  GibberishResult gibberish;
  TrapResult trap;
  AbuseResult abuse;

  NetworkFacts network;
  // True until the worker has run the network checks: the verdict is then an
  // estimate whatever it says (level 'estimated').
  bool offline = true;

  VerificationLevel level = VerificationLevel::estimated;
  Assessment assessment;
  std::string warning;  // every warning, "; "-separated

  // Fail-fast findings: no network check can change the verdict.
  bool fails_fast() const;
};

// All network-free checks; network facts stay empty. Call assess() after
// the network facts (if any) are in.
// With a typo memo (valid for `lists`), a domain's typo check is done once.
Verification check_offline(std::string_view input, const Lists& lists,
                           TypoMemo* typo_memo = nullptr);

// Takes in what the worker found; sets the catch-all confidence from how
// name-like the local part is.
void apply_network_facts(Verification& v, NetworkFacts facts);

// Scores `v` in place: assessment, level and warning.
void assess(Verification& v, const Weights& weights);

}  // namespace mailsentry
