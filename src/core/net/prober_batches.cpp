// The prober's batches: taken from a host queue, run on a leased session
// (streamed when it lacks PIPELINING), settled, or failed as a whole.
#include "net/prober_core.hpp"

#include <algorithm>
#include <utility>

#include "net/smtp_reply.hpp"

namespace mailsentry {

// ---------------------------------------------------------- batches ---

BatchPtr ProberCore::take_batch(const std::string& host, int budget, std::optional<bool> smtputf8) {
  auto batch = std::make_shared<Batch>();
  batch->host = host;
  HostQueue* queue = queues_.find(host);
  if (!queue) return batch;
  for (const JobPtr& job : fill_batch(*batch, queue->waiting, catch_all_, budget, smtputf8))
    conclude(job);
  return batch;
}

void ProberCore::run_batch(const BatchPtr& batch) {
  // The longest step timeout of the batch's attempts: a retried job keeps
  // the patience its schedule gives it.
  std::chrono::milliseconds step_timeout{0};
  for (const Batch::Entry& entry : batch->entries) {
    entry.job->note_reach(MailHostReach::answered);  // the host gave a session
    if (entry.rcpt) step_timeout = std::max(step_timeout, entry.job->step_timeout());
  }
  if (step_timeout.count() == 0) step_timeout = batch->entries.front().job->step_timeout();
  active_.insert(batch);
  std::weak_ptr<ProberCore> weak = shared_from_this();
  batch->session->transact(
      batch->recipients, batch->smtputf8, step_timeout,
      [weak, batch](TransactionResult transaction) {
        const auto self = weak.lock();
        if (!self) {
          batch->session->close();
          return;
        }
        try {
          self->on_batch_done(batch, std::move(transaction));
        } catch (...) {
          self->held_host_.clear();
          self->fail_batch(batch, "internal error");
          self->release_session(batch);
        }
      },
      batch->continue_open);
}

void ProberCore::on_batch_done(const BatchPtr& batch, TransactionResult transaction) {
  active_.erase(batch);
  const std::string host = batch->host;
  std::vector<std::string> transcript = std::move(batch->transcript);
  for (std::string& line : batch->session->take_transcript()) transcript.push_back(std::move(line));
  const bool streaming = streams(*batch->session);
  if (!streaming || shut_down_) release_session(batch);
  if (shut_down_) return;  // every job is finished already
  if (!streaming) {
    apply_settlement(batch, transaction, transcript);
    pump_host(host);
    return;
  }
  // The session stays in hand while its answers are settled: a job that
  // now wants its domain's catch-all probe is the next RCPT of the stream.
  held_host_ = host;
  apply_settlement(batch, transaction, transcript);
  const bool continued = continue_stream(batch);
  held_host_.clear();
  if (!continued) release_session(batch);
  pump_host(host);
}

// The session carries on with the next waiting job of its host, in the
// transaction it keeps open (the same SMTPUTF8 need first), while its
// recipient and rejection budget lasts. False: nothing more for it to do.
bool ProberCore::continue_stream(const BatchPtr& finished) {
  if (shut_down_ || finished->session_done) return false;
  const std::string& host = finished->host;
  const std::shared_ptr<SmtpSession>& session = finished->session;
  if (!streams(*session) || !session->usable()) return false;
  // Breaker open or backing off after a 421 elsewhere: the queue learns it
  // from the pool, as a batch asking for a session would.
  if (!pool_->unavailable_reason(host).empty()) return false;
  const SmtpOptions& options = pool_->options();
  // Every RCPT might be rejected: one more is fine while one rejection is left.
  if (session->recipients_sent() >= std::max(1, options.max_recipients_per_session) ||
      session->rejections() >= std::max(1, options.max_rejections_per_session))
    return false;
  if (!session->capabilities().smtputf8) refuse_smtputf8(host);
  std::optional<bool> need;
  if (session->transaction_open()) need = session->transaction_smtputf8();
  BatchPtr next = take_batch(host, 1, need);
  // Only jobs with the other SMTPUTF8 need wait: RSET and a new MAIL FROM.
  if (next->entries.empty() && need) next = take_batch(host, 1);
  if (next->entries.empty()) return false;
  next->session = session;
  next->continue_open = true;
  finished->session_done = true;
  run_batch(next);
  return true;
}

void ProberCore::release_session(const BatchPtr& batch) {
  if (batch->session_done || !batch->session) return;
  batch->session_done = true;
  pool_->release(batch->host, batch->session);
}

void ProberCore::apply_settlement(const BatchPtr& batch, const TransactionResult& transaction,
                                  const std::vector<std::string>& transcript) {
  for (const Batch::Entry& entry : batch->entries) {
    if (entry.job->finished) continue;
    entry.job->add_transcript(transcript);
    for (const std::string& warning : batch->warnings) entry.job->warn(warning);
  }
  const BatchSettlement settlement = settle_batch(*batch, transaction);
  mark_host(batch->host, settlement.marks);
  if (settlement.batch_failure) {
    if (settlement.refused_mail) {
      for (const Batch::Entry& entry : batch->entries) {
        if (!entry.rcpt || entry.job->finished) continue;
        entry.job->result.enhanced_code = settlement.refused_mail->enhanced;
        entry.job->result.message = clean_reply_text(settlement.refused_mail->text());
      }
    }
    fail_batch(batch, *settlement.batch_failure);
    return;
  }

  // The probes first: their answers decide the batch's "exists".
  std::unordered_map<std::string, ProbeAnswer> probe_answers;
  for (std::size_t i = 0; i < batch->probes.size(); ++i) {
    const std::string& domain = batch->probes[i].first;
    probe_answers[domain] = catch_all_.record(domain, settlement.probe_replies[i]);
  }
  for (std::size_t i = 0; i < batch->entries.size(); ++i) {
    const JobPtr& job = batch->entries[i].job;
    const EntrySettlement& settled = settlement.entries[i];
    switch (settled.fate) {
      case EntryFate::skip:
        continue;
      case EntryFate::answered:
        job->accept(*settled.reply);
        break;
      case EntryFate::conclude:
        break;
      case EntryFate::next_attempt:
        job->warn(settled.warning);
        next_attempt(job);
        continue;
      case EntryFate::retry_stale:
        job->stale_retry_used = true;
        run_attempt(job);
        continue;
      case EntryFate::rerun:
        run_attempt(job);
        continue;
      case EntryFate::fail:
        job->warn(settled.warning);
        job->result.mx_host = batch->host;
        finish(job);
        continue;
    }
    const auto answer = probe_answers.find(job->domain);
    if (answer != probe_answers.end()) CatchAllProbes::apply(*job, answer->second);
    conclude(job);
  }
  for (const auto& [domain, answer] : probe_answers) release_parked(domain, answer);
}

// Ends every job of a batch that went wrong without a per-recipient answer.
void ProberCore::fail_batch(const BatchPtr& batch, const std::string& warning) {
  active_.erase(batch);
  for (const Batch::Entry& entry : batch->entries) {
    const JobPtr& job = entry.job;
    if (job->finished) continue;
    if (!entry.rcpt) {
      conclude(job);  // its own answer stands
      continue;
    }
    job->warn(warning);
    job->result.mx_host = batch->host;
    finish(job);
  }
  end_probes(batch);
  pump_host(batch->host);
}

}  // namespace mailsentry
