// The prober's host queues and the leases the pool answers them with.
#include "net/prober_core.hpp"

#include <algorithm>
#include <utility>

#include "net/opening_failure.hpp"
#include "net/smtp_reply.hpp"

namespace mailsentry {

namespace {

// The job ends with the refusing reply's code and text, from `host`.
void end_with_reply(ProbeJob& job, const std::string& host, const std::optional<SmtpReply>& reply) {
  job.result.mx_host = host;
  if (!reply) return;
  job.result.enhanced_code = reply->enhanced;
  job.result.message = clean_reply_text(reply->text());
}

}  // namespace

// ------------------------------------------------- queues and leases ---

void ProberCore::enqueue(const JobPtr& job, bool front) {
  queues_.push(job, front);
  pump_host(job->host());
}

void ProberCore::pump_host(const std::string& host) {
  if (!held_host_.empty() && host == held_host_) return;  // pumped once it is let go
  HostQueue* queue = queues_.find(host);
  if (!queue) {
    pool_->set_queued(host, 0);
    return;
  }
  pool_->set_queued(host, queue->waiting.size());
  if (!shut_down_) {
    const std::size_t wanted = queue->sessions_wanted(pool_->options());
    std::weak_ptr<ProberCore> weak = shared_from_this();
    while (static_cast<std::size_t>(queue->acquiring) < wanted) {
      ++queue->acquiring;
      pool_->acquire(host, 1, queue->waiting.front()->step_timeout(),
                     [weak, host](SessionLease lease) {
                       if (const auto self = weak.lock()) {
                         self->on_lease(host, std::move(lease));
                       } else if (lease.session) {
                         lease.session->close();
                       }
                     });
    }
  }
  queues_.forget_if_idle(host);
}

void ProberCore::on_lease(const std::string& host, SessionLease lease) {
  queues_.acquisition_answered(host);
  if (shut_down_) {
    if (lease.session) pool_->release(host, lease.session);
    return;
  }
  if (lease.problem == LeaseProblem::session_failed) {
    on_opening_failed(host, lease);
    pump_host(host);
    return;
  }
  if (lease.problem != LeaseProblem::none) {
    on_host_unusable(host, lease);
    pump_host(host);
    return;
  }
  std::shared_ptr<SmtpSession> session = std::move(lease.session);
  if (!lease.reused) pool_->record_success(host);
  if (!session->capabilities().smtputf8) refuse_smtputf8(host);
  const SmtpOptions& options = pool_->options();
  const int budget = streams(*session)
                         ? 1
                         : std::min(options.max_recipients_per_session - session->recipients_sent(),
                                    options.max_rejections_per_session - session->rejections());
  BatchPtr batch = take_batch(host, budget);
  if (batch->entries.empty()) {
    pool_->release(host, session);  // nobody waits for this host (any more)
    pump_host(host);
    return;
  }
  batch->session = std::move(session);
  batch->reused = lease.reused;
  // A reused session may still hold the transaction of its last batch open
  // (MAIL FROM accepted): its RCPTs join it instead of RSET and a new MAIL
  // FROM each time (the session decides whether it can; the recipient and
  // rejection budgets are per session either way).
  batch->continue_open = true;
  batch->transcript = std::move(lease.transcript);
  batch->warnings = std::move(lease.warnings);
  run_batch(batch);
  pump_host(host);
}

// Shut down, or the host cannot be used at all (breaker, 421 back-off, no
// address, refused by policy): every job waiting for it is concerned.
void ProberCore::on_host_unusable(const std::string& host, const SessionLease& lease) {
  const bool shut_down = lease.problem == LeaseProblem::shut_down;
  for (const JobPtr& job : queues_.take_waiting(host)) {
    if (job->finished) continue;
    job->add_transcript(lease.transcript);
    for (const std::string& warning : lease.warnings) job->warn(warning);
    if (!shut_down && !job->answer) job->note_reach(lease.reach);
    if (shut_down) {
      job->warn(kProberShutDownWarning);
      finish(job);
    } else if (job->answer) {
      job->awaiting_catch_all = false;  // only its catch-all probe was pending
      conclude(job);
    } else {
      job->host_unusable[job->host_index] = true;  // no attempt used up
      run_attempt(job);
    }
  }
}

// Connect, greeting, EHLO or STARTTLS failed: it fails the jobs a fresh
// session would have carried; the others wait for the next one.
void ProberCore::on_opening_failed(const std::string& host, const SessionLease& lease) {
  const OpenResult& open = lease.open;
  const OpeningFailure judged = judge_opening_failure(open);
  mark_host(host, judged.marks);
  const SmtpOptions& options = pool_->options();
  BatchPtr group = take_batch(
      host, std::min(options.max_recipients_per_session, options.max_rejections_per_session));
  for (const Batch::Entry& entry : group->entries) {
    const JobPtr& job = entry.job;
    if (job->finished) continue;
    job->add_transcript(lease.transcript);
    if (!entry.rcpt) {
      conclude(job);  // its answer stands; the probe may be asked for again
      continue;
    }
    for (const std::string& warning : lease.warnings) job->warn(warning);
    job->warn(host + ": " + open.detail);
    job->note_reach(lease.reach);
    if (judged.retry) {
      next_attempt(job);
      continue;
    }
    if (judged.shut_down) job->warn(kProberShutDownWarning);
    end_with_reply(*job, host, open.reply);
    finish(job);
  }
  end_probes(group);
}

void ProberCore::refuse_smtputf8(const std::string& host) {
  for (const JobPtr& job : queues_.take_smtputf8_needs(host)) {
    job->note_reach(MailHostReach::answered);  // its session is open
    job->warn("SMTPUTF8 needed for " + job->request.recipient + " but not offered by " + host);
    job->result.mx_host = host;
    finish(job);
  }
}

void ProberCore::mark_host(const std::string& host, const HostMarks& marks) {
  for (const HostMark mark : marks) {
    if (mark == HostMark::success) pool_->record_success(host);
    if (mark == HostMark::failure || mark == HostMark::timeout)
      pool_->record_failure(host, mark == HostMark::timeout);
    if (mark == HostMark::back_off) pool_->back_off(host);
  }
}

}  // namespace mailsentry
