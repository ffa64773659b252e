// Which queued probes share one SMTP transaction. Probes are offered in FIFO
// order; a batch holds one SMTPUTF8 need (MAIL FROM ... SMTPUTF8 is per
// transaction), at most one catch-all probe per domain (none while another
// transaction probes that domain), and no more recipients than the session's
// budget: every recipient might be rejected, and MTAs slow down or drop a
// client after too many rejections. A session that streams (no PIPELINING:
// one RCPT at a time, the budget checked before each) plans with a budget of
// one, and with the SMTPUTF8 need of the transaction it keeps open.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>

namespace mailsentry {

struct BatchCandidate {
  bool needs_rcpt = true;        // false: only its domain's catch-all probe is still wanted
  bool smtputf8 = false;         // its RCPT needs MAIL FROM ... SMTPUTF8
  bool wants_probe = false;      // its domain's catch-all status is unknown
  bool probe_in_flight = false;  // another transaction is probing its domain
  std::string domain;            // "" when there is nothing to probe
};

enum class BatchTake {
  skip,            // left queued: the batch has the other SMTPUTF8 need
  rcpt,            // its RCPT goes into the batch
  rcpt_and_probe,  // its RCPT and, right after it, its domain's probe
  probe,           // its domain's probe only
  attach,          // nothing to send: its domain's probe is already on its way
  stop,            // the batch is full: this one and the rest stay queued
};

class BatchPlanner {
 public:
  // `budget`: recipients the transaction may carry (at least one is taken).
  // `smtputf8`: the need of a transaction already open, which the RCPTs join.
  explicit BatchPlanner(int budget, std::optional<bool> smtputf8 = std::nullopt)
      : budget_(budget < 1 ? 1 : budget), smtputf8_(smtputf8) {}

  BatchTake offer(const BatchCandidate& candidate);
  bool full() const { return budget_ <= 0; }
  int recipients() const { return recipients_; }
  // The SMTPUTF8 need of the batch's RCPTs (probe addresses are ASCII).
  bool smtputf8() const { return smtputf8_.value_or(false); }

 private:
  void take(int recipients) {
    budget_ -= recipients;
    recipients_ += recipients;
  }

  int budget_;
  int recipients_ = 0;
  std::optional<bool> smtputf8_;
  std::unordered_set<std::string> probed_domains_;
};

}  // namespace mailsentry
