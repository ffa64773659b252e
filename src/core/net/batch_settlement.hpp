// What a finished transaction means for each job of its batch, decided
// apart from carrying it out: which RCPT replies answer whom, which jobs try
// again (and on which terms), which end, and what the host earned.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/host_mark.hpp"
#include "net/probe_batch.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

enum class EntryFate {
  skip,          // finished before the transaction ended
  answered,      // its RCPT reply came: accepted, then concluded
  conclude,      // it carried only its domain's probe: its own answer stands
  next_attempt,  // no reply for it: the next attempt, with the warning
  retry_stale,   // the reused session had been dropped by the server: the same attempt, once
  rerun,         // another recipient's reply broke the session: the same attempt again
  fail,          // its reply is the one that went wrong: it ends with the warning
};

struct EntrySettlement {
  EntryFate fate = EntryFate::skip;
  const SmtpReply* reply = nullptr;  // answered: its RCPT reply (in the transaction)
  std::string warning;
};

struct BatchSettlement {
  HostMarks marks;
  // Set when the transaction failed as a whole (aborted, MAIL FROM refused
  // or unanswered): each RCPT job ends with this warning, the others conclude.
  std::optional<std::string> batch_failure;
  const SmtpReply* refused_mail = nullptr;      // its code and text go to each RCPT job
  std::vector<const SmtpReply*> probe_replies;  // by Batch::probes; nullptr: no reply
  std::vector<EntrySettlement> entries;         // by Batch::entries, unless batch_failure
};

// The replies point into `transaction`, which must outlive the result.
BatchSettlement settle_batch(const Batch& batch, const TransactionResult& transaction);

}  // namespace mailsentry
