// The steps of one verification that verify_email(), verify_emails(), the
// cache reader, re-probes and the worker's jobs share: the network-free
// checks and the request for the worker, then the verdict from its facts.
#pragma once

#include <optional>
#include <string_view>

#include "checks/lists.hpp"
#include "net/network_verifier.hpp"
#include "verdict/score.hpp"
#include "verdict/verification.hpp"

namespace mailsentry {

// Runs the network-free checks. Returns the request for the worker, or
// nothing when no network check can change the verdict (invalid syntax, a
// provider format violation, a system address, an address literal); `v` is
// then final apart from assess().
// The request's registrable domain is left empty: the cache may answer it,
// and only the network needs it (complete_network_request).
std::optional<NetworkRequest> start_verification(std::string_view input, Depth depth,
                                                 const ProbeSettings& probe, const Lists& lists,
                                                 Verification& v, TypoMemo* typo_memo = nullptr);

// Fills what only the network needs (the registrable domain, a public-suffix
// lookup) into a request about to be handed to the network engine.
void complete_network_request(NetworkRequest& request);

// Takes in the worker's facts (or notes that none came) and scores.
void finish_verification(Verification& v, std::optional<NetworkFacts> facts,
                         std::string_view missing_reason, const Weights& weights);

// Whether facts leave the mailbox question open: no DNS answer, or an SMTP
// probe that gave no answer (a catch-all domain is an answer). Such verdicts
// get the shorter cache TTL and are re-probed in the background.
bool facts_inconclusive(const NetworkFacts& facts);

// Rank of a depth: a cached verdict serves requests of its depth or less.
int depth_rank(Depth depth);

}  // namespace mailsentry
