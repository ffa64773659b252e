#include "smtp_prober.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <random>
#include <unordered_map>
#include <utility>

#include "catch_all_memory.hpp"
#include "smtp_pool.hpp"
#include "smtp_reply.hpp"
#include "smtp_session.hpp"

namespace mailsentry {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kProbeLocalPartLength = 24;

std::string lower_host(std::string host) {
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

std::string domain_of(const ProbeRequest& request) {
  if (!request.domain.empty()) return lower_host(request.domain);
  const std::size_t at = request.recipient.rfind('@');
  return at == std::string::npos ? std::string{} : lower_host(request.recipient.substr(at + 1));
}

std::string schedule_text(const std::vector<std::chrono::milliseconds>& timeouts) {
  std::string text;
  for (const auto& timeout : timeouts) {
    if (!text.empty()) text += '/';
    text += std::to_string(timeout.count());
  }
  return text + " ms";
}

struct ProbeJob {
  std::uint64_t id = 0;
  ProbeRequest request;
  std::function<void(ProbeResult)> done;
  ProbeResult result;
  std::vector<std::string> hosts;  // lower-case, preference order
  std::vector<bool> host_unusable;
  std::vector<std::chrono::milliseconds> timeouts;
  std::size_t attempt = 0;
  std::size_t next_host = 0;
  std::string catch_all_probe;  // the recipient that cannot exist
  bool check_catch_all = false;
  bool depth_retry_done = false;
  bool stale_retry_used = false;
  bool finished = false;
  std::shared_ptr<SmtpSession> session;  // during a transaction
  std::unique_ptr<asio::steady_timer> retry_timer;

  void warn(std::string warning) {
    if (std::find(result.warnings.begin(), result.warnings.end(), warning) == result.warnings.end())
      result.warnings.push_back(std::move(warning));
  }
  void add_transcript(std::vector<std::string> lines) {
    result.transcript.insert(result.transcript.end(), std::make_move_iterator(lines.begin()),
                             std::make_move_iterator(lines.end()));
  }
};

using JobPtr = std::shared_ptr<ProbeJob>;

// The prober's state, shared with the handlers through weak pointers so that
// the SmtpProber can go away with work in flight.
class ProberCore : public std::enable_shared_from_this<ProberCore> {
 public:
  ProberCore(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
      : io_(io),
        catch_all_ttl_(options.catch_all_memory),
        pool_(std::make_shared<SmtpPool>(io, std::move(resolve_host), std::move(options))),
        random_(std::random_device{}()) {}

  void start(ProbeRequest request, std::function<void(ProbeResult)> done);
  void set_options(SmtpOptions options);
  void shutdown();
  std::vector<SmtpProber::MxStats> stats() const { return pool_->stats(); }

 private:
  void run_attempt(const JobPtr& job);
  void on_lease(const JobPtr& job, std::size_t host_index, SessionLease lease);
  void on_transaction(const JobPtr& job, std::size_t host_index, bool reused,
                      TransactionResult transaction);
  void evaluate(const JobPtr& job, std::size_t host_index, const SmtpReply& reply,
                const SmtpReply* catch_all_reply);
  void next_attempt(const JobPtr& job, std::size_t failed_host_index);
  void finish(const JobPtr& job);
  std::string random_local_part();

  asio::io_context& io_;
  std::chrono::milliseconds catch_all_ttl_;
  std::shared_ptr<SmtpPool> pool_;
  CatchAllMemory catch_all_memory_;
  std::unordered_map<std::uint64_t, JobPtr> jobs_;
  std::uint64_t next_job_id_ = 1;
  bool shut_down_ = false;
  std::mt19937_64 random_;
};

std::string ProberCore::random_local_part() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string local(kProbeLocalPartLength, 'x');
  for (char& c : local) c = kAlphabet[pick(random_)];
  return local;
}

}  // namespace

void ProberCore::start(ProbeRequest request, std::function<void(ProbeResult)> done) {
  auto job = std::make_shared<ProbeJob>();
  job->id = next_job_id_++;
  job->done = std::move(done);
  job->request = std::move(request);
  jobs_.emplace(job->id, job);
  if (shut_down_) {
    job->warn("prober shut down");
    finish(job);
    return;
  }
  for (const MxHost& mx : job->request.mx) {
    std::string host = lower_host(mx.host);
    if (!host.empty()) job->hosts.push_back(std::move(host));
  }
  job->host_unusable.assign(job->hosts.size(), false);
  for (const auto& timeout : job->request.settings.timeouts) {
    if (timeout.count() > 0) job->timeouts.push_back(timeout);
  }
  if (job->timeouts.empty()) job->timeouts = ProbeSettings{}.timeouts;
  if (job->hosts.empty() || job->request.recipient.empty()) {
    job->warn("nothing to probe: no MX host or no recipient");
    finish(job);
    return;
  }
  const std::string domain = domain_of(job->request);
  job->result.catch_all = catch_all_memory_.recall(domain, Clock::now());
  if (!job->result.catch_all && !domain.empty()) {
    job->check_catch_all = true;
    job->catch_all_probe = random_local_part() + "@" + domain;
  }
  run_attempt(job);
}

void ProberCore::run_attempt(const JobPtr& job) {
  if (job->finished) return;
  if (shut_down_) {
    job->warn("prober shut down");
    finish(job);
    return;
  }
  if (job->attempt >= job->timeouts.size()) {
    job->warn("timeout: no definitive answer after " + std::to_string(job->timeouts.size()) +
              " attempts (" + schedule_text(job->timeouts) + ")");
    finish(job);
    return;
  }
  std::optional<std::size_t> chosen;
  for (std::size_t k = 0; k < job->hosts.size() && !chosen; ++k) {
    const std::size_t index = (job->next_host + k) % job->hosts.size();
    if (job->host_unusable[index]) continue;
    std::string reason = pool_->unavailable_reason(job->hosts[index]);
    if (!reason.empty()) {
      job->warn(std::move(reason));
      job->host_unusable[index] = true;
      continue;
    }
    chosen = index;
  }
  if (!chosen) {
    finish(job);  // every MX host is unusable; the warnings say why
    return;
  }
  const std::string& host = job->hosts[*chosen];
  pool_->count_probe(host);
  const int recipients = job->check_catch_all ? 2 : 1;
  std::weak_ptr<ProberCore> weak = shared_from_this();
  pool_->acquire(host, recipients, job->timeouts[job->attempt],
                 [weak, job, index = *chosen](SessionLease lease) {
                   if (const auto self = weak.lock()) {
                     self->on_lease(job, index, std::move(lease));
                   } else if (lease.session) {
                     lease.session->close();
                   }
                 });
}

void ProberCore::next_attempt(const JobPtr& job, std::size_t failed_host_index) {
  ++job->attempt;
  job->next_host = failed_host_index + 1;  // the next MX first, if there is one
  run_attempt(job);
}

void ProberCore::on_lease(const JobPtr& job, std::size_t host_index, SessionLease lease) {
  const std::string& host = job->hosts[host_index];
  if (job->finished) {
    if (lease.session) pool_->release(host, lease.session);
    return;
  }
  job->add_transcript(std::move(lease.transcript));
  for (std::string& warning : lease.warnings) job->warn(std::move(warning));

  switch (lease.problem) {
    case LeaseProblem::none:
      break;
    case LeaseProblem::shut_down:
      job->warn("prober shut down");
      finish(job);
      return;
    case LeaseProblem::unavailable:
    case LeaseProblem::resolution_failed:
    case LeaseProblem::policy_refused:
      // This MX cannot be used at all: try the others without using up an attempt.
      job->host_unusable[host_index] = true;
      run_attempt(job);
      return;
    case LeaseProblem::session_failed: {
      const OpenResult& open = lease.open;
      job->warn(host + ": " + open.detail);
      switch (open.failure) {
        case SessionFailure::timeout:
        case SessionFailure::connection_error:
          pool_->record_failure(host, open.failure == SessionFailure::timeout);
          next_attempt(job, host_index);
          return;
        case SessionFailure::refused_greeting:
          pool_->record_failure(host, false);
          if (open.reply && open.reply->code == 421) pool_->back_off(host);
          break;
        case SessionFailure::aborted:
          job->warn("prober shut down");
          break;
        default:
          pool_->record_success(host);  // it answered: not a dead host
          break;
      }
      job->result.mx_host = host;
      if (open.reply) {
        job->result.enhanced_code = open.reply->enhanced;
        job->result.message = clean_reply_text(open.reply->text());
      }
      finish(job);
      return;
    }
  }

  std::shared_ptr<SmtpSession> session = std::move(lease.session);
  if (!lease.reused) pool_->record_success(host);
  if (job->request.needs_smtputf8 && !session->capabilities().smtputf8) {
    job->warn("SMTPUTF8 needed for " + job->request.recipient + " but not offered by " + host);
    job->result.mx_host = host;
    pool_->release(host, session);
    finish(job);
    return;
  }
  std::vector<std::string> recipients{job->request.recipient};
  if (job->check_catch_all) recipients.push_back(job->catch_all_probe);
  job->session = session;
  std::weak_ptr<ProberCore> weak = shared_from_this();
  const bool reused = lease.reused;
  session->transact(std::move(recipients), job->request.needs_smtputf8, job->timeouts[job->attempt],
                    [weak, job, host_index, reused](TransactionResult transaction) {
                      if (const auto self = weak.lock()) {
                        self->on_transaction(job, host_index, reused, std::move(transaction));
                      } else if (job->session) {
                        job->session->close();
                      }
                    });
}

void ProberCore::on_transaction(const JobPtr& job, std::size_t host_index, bool reused,
                                TransactionResult transaction) {
  const std::string& host = job->hosts[host_index];
  std::shared_ptr<SmtpSession> session = std::move(job->session);
  job->session = nullptr;
  if (session) {
    job->add_transcript(session->take_transcript());
    pool_->release(host, session);
  }
  if (job->finished) return;

  switch (transaction.failure) {
    case SessionFailure::none:
      break;
    case SessionFailure::timeout:
    case SessionFailure::connection_error:
      if (reused && transaction.failure == SessionFailure::connection_error &&
          !job->stale_retry_used) {
        // An idle session the server had already dropped: not the MX's fault.
        job->stale_retry_used = true;
        run_attempt(job);
        return;
      }
      job->warn(host + ": " + transaction.detail);
      pool_->record_failure(host, transaction.failure == SessionFailure::timeout);
      next_attempt(job, host_index);
      return;
    case SessionFailure::aborted:
      job->warn("prober shut down");
      finish(job);
      return;
    default:
      job->warn(host + ": " + std::string(describe(transaction.failure)) + ": " +
                transaction.detail);
      job->result.mx_host = host;
      finish(job);
      return;
  }

  job->result.mx_host = host;
  if (!transaction.mail_reply) {
    job->warn(host + ": no reply to MAIL FROM");
    finish(job);
    return;
  }
  const SmtpReply& mail = *transaction.mail_reply;
  if (mail.code / 100 != 2) {
    if (mail.code == 421) {
      pool_->record_failure(host, false);
      pool_->back_off(host);
    }
    job->warn(host + ": MAIL FROM refused: " + std::to_string(mail.code) +
              (mail.enhanced.empty() ? "" : " " + mail.enhanced));
    job->result.enhanced_code = mail.enhanced;
    job->result.message = clean_reply_text(mail.text());
    finish(job);
    return;
  }
  if (transaction.rcpt_replies.empty()) {
    job->warn(host + ": no reply to RCPT TO");
    finish(job);
    return;
  }
  const SmtpReply* catch_all_reply =
      transaction.rcpt_replies.size() > 1 ? &transaction.rcpt_replies[1] : nullptr;
  evaluate(job, host_index, transaction.rcpt_replies.front(), catch_all_reply);
}

void ProberCore::evaluate(const JobPtr& job, std::size_t host_index, const SmtpReply& reply,
                          const SmtpReply* catch_all_reply) {
  const std::string& host = job->hosts[host_index];
  ProbeResult& result = job->result;
  const RcptVerdict verdict = classify_rcpt_reply(reply);
  result.code = reply.code;
  result.enhanced_code = reply.enhanced;
  result.message = clean_reply_text(reply.text());
  result.mailbox_full = verdict == RcptVerdict::mailbox_full;
  if (verdict == RcptVerdict::greylisted) result.greylisted = true;
  if (reply.code == 421) {
    pool_->record_failure(host, false);
    pool_->back_off(host);
  }

  bool catch_all_seen_now = false;
  if (catch_all_reply) {
    const RcptVerdict probe_verdict = classify_rcpt_reply(*catch_all_reply);
    std::optional<bool> catch_all;
    if (probe_verdict == RcptVerdict::exists) catch_all = true;
    if (probe_verdict == RcptVerdict::does_not_exist) catch_all = false;
    if (catch_all) {
      result.catch_all = catch_all;
      catch_all_seen_now = *catch_all;
      catch_all_memory_.remember(domain_of(job->request), *catch_all, Clock::now(), catch_all_ttl_);
      job->check_catch_all = false;
    }
  }

  switch (verdict) {
    case RcptVerdict::exists:
    case RcptVerdict::mailbox_full:
      result.outcome = SmtpOutcome::exists;
      break;
    case RcptVerdict::does_not_exist:
      result.outcome = SmtpOutcome::does_not_exist;
      break;
    case RcptVerdict::greylisted:
    case RcptVerdict::policy_refusal:
    case RcptVerdict::temporary:
    case RcptVerdict::inconclusive:
      result.outcome = SmtpOutcome::inconclusive;
      break;
  }
  // A server that accepts anything says nothing about this mailbox.
  if (result.catch_all.value_or(false) && verdict == RcptVerdict::exists)
    result.outcome = SmtpOutcome::inconclusive;
  if (verdict == RcptVerdict::policy_refusal) job->warn(host + ": refused by policy");

  const bool depth_retry = job->request.settings.extended && !job->depth_retry_done &&
                           (verdict == RcptVerdict::greylisted || catch_all_seen_now);
  if (!depth_retry) {
    if (verdict == RcptVerdict::greylisted && job->depth_retry_done)
      job->warn(host + ": still deferring after the retry");
    finish(job);
    return;
  }
  job->depth_retry_done = true;
  const auto delay = job->request.settings.greylist_retry_delay;
  job->warn(std::string(verdict == RcptVerdict::greylisted ? "greylisted" : "catch-all answer") +
            " by " + host + "; probed again after " + std::to_string(delay.count()) + " ms");
  if (catch_all_seen_now) job->check_catch_all = true;  // same probe address as before
  job->attempt = 0;
  job->next_host = host_index;  // greylisting is remembered per server
  job->stale_retry_used = false;
  job->retry_timer = std::make_unique<asio::steady_timer>(io_, delay);
  std::weak_ptr<ProberCore> weak = shared_from_this();
  job->retry_timer->async_wait([weak, job](const std::error_code&) {
    const auto self = weak.lock();
    if (!self || job->finished) return;
    try {
      self->run_attempt(job);
    } catch (...) {
      job->warn("internal error");
      self->finish(job);
    }
  });
}

void ProberCore::finish(const JobPtr& job) {
  if (job->finished) return;
  job->finished = true;
  jobs_.erase(job->id);
  if (job->retry_timer) job->retry_timer->cancel();
  if (job->result.outcome == SmtpOutcome::not_attempted)
    job->result.outcome = SmtpOutcome::inconclusive;
  asio::post(io_, [done = std::move(job->done), result = std::move(job->result)]() mutable {
    try {
      if (done) done(std::move(result));
    } catch (...) {
      // The caller's callback must not throw into the event loop.
    }
  });
}

void ProberCore::set_options(SmtpOptions options) {
  catch_all_ttl_ = options.catch_all_memory;
  pool_->set_options(std::move(options));
}

void ProberCore::shutdown() {
  shut_down_ = true;
  std::unordered_map<std::uint64_t, JobPtr> jobs;
  jobs.swap(jobs_);
  for (auto& [id, job] : jobs) {
    if (job->session) job->session->close();
    job->warn("prober shut down");
    finish(job);
  }
  pool_->shutdown();
}

struct SmtpProber::Impl {
  asio::io_context& io;
  std::shared_ptr<ProberCore> core;
};

SmtpProber::SmtpProber(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
    : impl_(std::make_unique<Impl>(Impl{
          io, std::make_shared<ProberCore>(io, std::move(resolve_host), std::move(options))})) {}

SmtpProber::~SmtpProber() {
  // Runs on the io thread or with the io_context stopped: pending callbacks
  // are posted, handlers still in flight find the core shut down.
  try {
    impl_->core->shutdown();
  } catch (...) {
  }
}

void SmtpProber::probe(ProbeRequest request, std::function<void(ProbeResult)> done) {
  asio::post(impl_->io,
             [core = impl_->core, request = std::move(request), done = std::move(done)]() mutable {
               try {
                 core->start(std::move(request), std::move(done));
               } catch (...) {
                 // start() reports through `done`; an allocation failure here has nowhere to go.
               }
             });
}

void SmtpProber::set_options(SmtpOptions options) {
  asio::post(impl_->io, [core = impl_->core, options = std::move(options)]() mutable {
    try {
      core->set_options(std::move(options));
    } catch (...) {
    }
  });
}

void SmtpProber::shutdown() {
  asio::post(impl_->io, [core = impl_->core] {
    try {
      core->shutdown();
    } catch (...) {
    }
  });
}

std::vector<SmtpProber::MxStats> SmtpProber::stats() const { return impl_->core->stats(); }

}  // namespace mailsentry
