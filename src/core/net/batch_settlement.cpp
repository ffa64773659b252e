#include "net/batch_settlement.hpp"

#include <algorithm>

namespace mailsentry {

namespace {

// MAIL FROM was not accepted although the dialogue went on.
BatchSettlement refused_mail_from(const std::string& host, const TransactionResult& transaction) {
  BatchSettlement settlement;
  if (!transaction.mail_reply) {
    settlement.batch_failure = host + ": no reply to MAIL FROM";
    return settlement;
  }
  const SmtpReply& mail = *transaction.mail_reply;
  if (mail.code == 421) settlement.marks = {HostMark::failure, HostMark::back_off};
  settlement.refused_mail = &mail;
  settlement.batch_failure = host + ": MAIL FROM refused: " + std::to_string(mail.code) +
                             (mail.enhanced.empty() ? "" : " " + mail.enhanced);
  return settlement;
}

}  // namespace

BatchSettlement settle_batch(const Batch& batch, const TransactionResult& transaction) {
  const std::string& host = batch.host;
  const SessionFailure failure = transaction.failure;
  if (failure == SessionFailure::aborted) {
    BatchSettlement settlement;
    settlement.batch_failure = "prober shut down";
    return settlement;
  }
  const bool mail_accepted = transaction.mail_reply && transaction.mail_reply->code / 100 == 2;
  if (!mail_accepted && failure == SessionFailure::none)
    return refused_mail_from(host, transaction);

  BatchSettlement settlement;
  static const std::vector<SmtpReply> kNoReplies;
  const std::vector<SmtpReply>& replies = mail_accepted ? transaction.rcpt_replies : kNoReplies;
  if (std::any_of(replies.begin(), replies.end(),
                  [](const SmtpReply& reply) { return reply.code == 421; })) {
    // The server is closing: once per session.
    settlement.marks.push_back(HostMark::failure);
    settlement.marks.push_back(HostMark::back_off);
  }
  const bool lost =
      failure == SessionFailure::timeout || failure == SessionFailure::connection_error;
  // An idle session the server had already dropped: not the MX's fault.
  const bool stale = batch.reused && failure == SessionFailure::connection_error && replies.empty();
  if (lost && !stale)
    settlement.marks.push_back(failure == SessionFailure::timeout ? HostMark::timeout
                                                                  : HostMark::failure);
  std::string failure_warning;
  if (lost) {
    failure_warning = host + ": " + transaction.detail;
  } else if (failure != SessionFailure::none) {
    failure_warning = host + ": " + describe(failure) + ": " + transaction.detail;
  }

  for (const auto& probe : batch.probes)
    settlement.probe_replies.push_back(probe.second < replies.size() ? &replies[probe.second]
                                                                     : nullptr);
  bool blamed = false;
  for (const Batch::Entry& entry : batch.entries) {
    EntrySettlement& settled = settlement.entries.emplace_back();
    if (entry.job->finished) continue;  // skip
    if (!entry.rcpt) {
      settled.fate = EntryFate::conclude;
    } else if (entry.rcpt_index < replies.size()) {
      settled.fate = EntryFate::answered;
      settled.reply = &replies[entry.rcpt_index];
    } else if (failure == SessionFailure::none) {
      // The server stopped answering mid-batch (421): like a lost connection.
      settled.fate = EntryFate::next_attempt;
      settled.warning = host + ": no reply to RCPT TO";
    } else if (stale && !entry.job->stale_retry_used) {
      settled.fate = EntryFate::retry_stale;
    } else if (lost) {
      settled.fate = EntryFate::next_attempt;  // each job retries on its own schedule
      settled.warning = failure_warning;
    } else if (blamed) {
      settled.fate = EntryFate::rerun;
    } else {
      // The first reply missing is the one that went wrong (malformed...).
      blamed = true;
      settled.fate = EntryFate::fail;
      settled.warning = failure_warning;
    }
  }
  return settlement;
}

}  // namespace mailsentry
