#include "net/smtp_batch.hpp"

namespace mailsentry {

BatchTake BatchPlanner::offer(const BatchCandidate& candidate) {
  if (budget_ <= 0) return BatchTake::stop;
  const bool probe_coming =
      candidate.probe_in_flight || probed_domains_.count(candidate.domain) > 0;
  if (!candidate.needs_rcpt) {
    if (probe_coming || candidate.domain.empty()) return BatchTake::attach;
    take(1);
    probed_domains_.insert(candidate.domain);
    return BatchTake::probe;
  }
  if (smtputf8_ && *smtputf8_ != candidate.smtputf8) return BatchTake::skip;
  const bool with_probe = candidate.wants_probe && !probe_coming && !candidate.domain.empty();
  const int cost = with_probe ? 2 : 1;
  if (cost > budget_) {
    if (recipients_ > 0) return BatchTake::stop;  // FIFO: no overtaking
    // The first RCPT always goes; its probe waits for a later transaction.
    smtputf8_ = candidate.smtputf8;
    take(1);
    return BatchTake::rcpt;
  }
  smtputf8_ = candidate.smtputf8;
  take(cost);
  if (!with_probe) return BatchTake::rcpt;
  probed_domains_.insert(candidate.domain);
  return BatchTake::rcpt_and_probe;
}

}  // namespace mailsentry
