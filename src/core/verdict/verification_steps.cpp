#include "verdict/verification_steps.hpp"

#include "checks/public_suffix.hpp"

namespace mailsentry {

std::optional<NetworkRequest> start_verification(std::string_view input, Depth depth,
                                                 const ProbeSettings& probe, const Lists& lists,
                                                 Verification& v, TypoMemo* typo_memo) {
  v = check_offline(input, lists, typo_memo);
  // Invalid syntax, a provider format violation or a system address end the
  // verification here; a domain typo only asks whether the typo domain has
  // mail servers of its own.
  if (!v.address.valid || !v.provider.format_violation.empty() || v.role.tier == RoleTier::system) {
    v.offline = false;
    return std::nullopt;
  }
  if (v.address.address_literal) {
    v.offline = false;
    v.network.warnings.push_back("address literal: no DNS or SMTP check");
    return std::nullopt;
  }
  NetworkRequest request;
  request.address = v.address.normalized();
  request.domain = v.address.domain;
  request.needs_smtputf8 = v.address.utf8_local;
  request.mx_only = v.typo.domain_typo;
  request.depth = depth;
  request.smtp = probe;
  return request;
}

void complete_network_request(NetworkRequest& request) {
  if (request.registrable_domain.empty())
    request.registrable_domain = registrable_domain(request.domain);
}

void finish_verification(Verification& v, std::optional<NetworkFacts> facts,
                         std::string_view missing_reason, const Weights& weights) {
  if (facts) {
    apply_network_facts(v, std::move(*facts));
  } else if (!missing_reason.empty()) {
    NetworkFacts none;
    none.unfinished = true;
    none.warnings.emplace_back(missing_reason);
    apply_network_facts(v, std::move(none));
  }
  assess(v, weights);
}

bool facts_inconclusive(const NetworkFacts& facts) {
  if (facts.dead_domain != DeadDomain::none) return false;  // a finding, with its own TTL
  if (!facts.mx_found.has_value()) return true;
  return facts.smtp == SmtpOutcome::inconclusive && !facts.catch_all.value_or(false) &&
         !facts.smtp_skipped_by_policy;
}

int depth_rank(Depth depth) {
  for (std::size_t rank = 0; rank < std::size(kDepths); ++rank)
    if (kDepths[rank].first == depth) return static_cast<int>(rank);
  return 1;
}

}  // namespace mailsentry
