#include "net/smtp_prober.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "net/catch_all_memory.hpp"
#include "net/smtp_batch.hpp"
#include "net/smtp_pool.hpp"
#include "net/smtp_reply.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kProbeLocalPartLength = 24;
// How often one job asks for its domain's catch-all probe after its own
// "exists" answer (the probe it relied on failed, or did not fit its batch).
constexpr int kMaxProbeRequests = 2;

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

// Sessions without PIPELINING stream: one RCPT at a time, the budget checked
// before each, all in the transaction the session keeps open. With
// PIPELINING a batch of RCPTs costs one round trip whatever its size.
bool streams(const SmtpSession& session) { return !session.capabilities().pipelining; }

// One host's outcome over the attempts of a job. A reply anywhere settles
// it; the same definitive failure twice stays what it was (a refused connect
// retried is still refused); a blocked port 25 explains any failure; any
// other mix may pass.
MailHostReach merge_host_reach(MailHostReach earlier, MailHostReach now) {
  if (earlier == MailHostReach::answered || now == MailHostReach::answered)
    return MailHostReach::answered;
  if (earlier == MailHostReach::port25_blocked || now == MailHostReach::port25_blocked)
    return MailHostReach::port25_blocked;
  return earlier == now ? now : MailHostReach::no_answer;
}

// The job's outcome over every host it tried.
MailHostReach summarise_reach(const std::vector<std::optional<MailHostReach>>& hosts) {
  bool any = false;
  bool all_no_address = true;
  bool all_definitive = true;  // no address, off limits or refused
  bool any_refused = false;
  bool any_blocked = false;
  for (const std::optional<MailHostReach>& host : hosts) {
    if (!host) continue;  // never tried
    any = true;
    switch (*host) {
      case MailHostReach::answered:
        return MailHostReach::answered;
      case MailHostReach::no_address:
        break;
      case MailHostReach::off_limits:
        all_no_address = false;
        break;
      case MailHostReach::refused:
        all_no_address = false;
        any_refused = true;
        break;
      case MailHostReach::port25_blocked:
        any_blocked = true;
        all_no_address = all_definitive = false;
        break;
      case MailHostReach::no_answer:
        all_no_address = all_definitive = false;
        break;
    }
  }
  if (!any) return MailHostReach::no_answer;
  if (any_blocked) return MailHostReach::port25_blocked;
  if (all_no_address) return MailHostReach::no_address;
  if (!all_definitive) return MailHostReach::no_answer;
  // Hosts without a usable address do not keep the others from "refused".
  return any_refused ? MailHostReach::refused : MailHostReach::off_limits;
}

std::string schedule_text(const std::vector<std::chrono::milliseconds>& timeouts) {
  std::string text;
  for (const auto& timeout : timeouts) {
    if (!text.empty()) text += '/';
    text += std::to_string(timeout.count());
  }
  return text + " ms";
}

// One address being probed. At any moment it is in one place only: a host
// queue, a batch, its domain's list of jobs waiting for a catch-all answer,
// a retry timer, or finished.
struct ProbeJob {
  std::uint64_t id = 0;
  ProbeRequest request;
  std::function<void(ProbeResult)> done;
  ProbeResult result;
  std::string domain;              // lower-case; "" leaves catch-all unchecked
  std::vector<std::string> hosts;  // lower-case, preference order
  std::vector<bool> host_unusable;
  std::vector<std::optional<MailHostReach>> host_reach;  // by host; unset: not tried
  std::vector<std::chrono::milliseconds> timeouts;
  std::size_t attempt = 0;
  std::size_t next_host = 0;
  std::size_t host_index = 0;       // the host of the current attempt
  std::optional<SmtpReply> answer;  // its own RCPT reply, once there is one
  bool awaiting_catch_all = false;  // its domain's catch-all status is still wanted
  bool distrust_memory = false;     // a depth retry wants a fresh probe, not the memory
  bool catch_all_seen_now = false;  // a probe for this job just found a catch-all
  int probe_requests = 0;
  bool depth_retry_done = false;
  bool stale_retry_used = false;
  bool finished = false;
  std::unique_ptr<asio::steady_timer> retry_timer;

  const std::string& host() const { return hosts[host_index]; }
  std::chrono::milliseconds step_timeout() const {
    return timeouts[std::min(attempt, timeouts.size() - 1)];
  }
  void warn(std::string warning) {
    if (std::find(result.warnings.begin(), result.warnings.end(), warning) == result.warnings.end())
      result.warnings.push_back(std::move(warning));
  }
  void add_transcript(const std::vector<std::string>& lines) {
    result.transcript.insert(result.transcript.end(), lines.begin(), lines.end());
  }
  // How reaching hosts[index] ended this time (by default the current attempt's).
  void note_reach(MailHostReach reach) { note_reach(host_index, reach); }
  void note_reach(std::size_t index, MailHostReach reach) {
    std::optional<MailHostReach>& host = host_reach[index];
    host = host ? merge_host_reach(*host, reach) : reach;
  }
};

using JobPtr = std::shared_ptr<ProbeJob>;

// RCPTs of one or more jobs sent together on one leased session: with
// PIPELINING a transaction of its own (RSET, MAIL FROM, RCPT x k in one
// write); without, one RCPT that joins the transaction the session keeps open
// (a stream), MAIL FROM first only when none is open with its SMTPUTF8 need.
struct Batch {
  struct Entry {
    JobPtr job;
    bool rcpt = false;  // false: the job only carries its domain's probe
    std::size_t rcpt_index = 0;
  };
  std::string host;
  std::shared_ptr<SmtpSession> session;
  bool reused = false;
  bool smtputf8 = false;
  bool continue_open = false;  // the RCPTs may join the transaction left open
  bool session_done = false;   // released, or handed on to the next batch
  std::vector<Entry> entries;
  std::vector<std::pair<std::string, std::size_t>> probes;  // domain, recipient index
  std::vector<std::string> recipients;
  std::vector<std::string> transcript;  // the session's opening
  std::vector<std::string> warnings;    // from the lease, for every job
};

using BatchPtr = std::shared_ptr<Batch>;

// What a catch-all probe said.
struct ProbeAnswer {
  bool replied = false;           // false: the probe got no reply (failure)
  std::optional<bool> catch_all;  // set when the reply was conclusive
};

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
  void remember_catch_all(const std::string& domain, bool catch_all, std::chrono::milliseconds ttl);
  void restore_breaker(const std::string& host, std::chrono::milliseconds remaining) {
    pool_->restore_breaker(lower_host(host), remaining);
  }
  void shutdown();
  std::vector<SmtpProber::MxStats> stats() const { return pool_->stats(); }
  SmtpProber::OutboundState outbound_state() const { return pool_->outbound_state(); }

 private:
  // Jobs waiting for a session to one MX host.
  struct HostQueue {
    std::deque<JobPtr> waiting;  // FIFO
    int acquiring = 0;           // pool acquisitions not answered yet
  };
  // Catch-all probing of one domain: one probe at a time.
  struct DomainState {
    int jobs = 0;  // unfinished jobs of the domain: the state lives as long as they do
    bool probe_in_flight = false;
    std::string probe_address;   // the same one each time (greylisting servers)
    std::vector<JobPtr> parked;  // answered "exists", waiting for the probe's answer
  };

  void run_attempt(const JobPtr& job);
  void next_attempt(const JobPtr& job);
  void enqueue(const JobPtr& job, bool front);
  void pump_host(const std::string& host);
  void on_lease(const std::string& host, SessionLease lease);
  void on_lease_problem(const std::string& host, SessionLease lease);
  void refuse_smtputf8(const std::string& host);
  BatchPtr take_batch(const std::string& host, int budget,
                      std::optional<bool> smtputf8 = std::nullopt);
  void run_batch(const BatchPtr& batch);
  void on_batch_done(const BatchPtr& batch, TransactionResult transaction);
  void settle_batch(const BatchPtr& batch, const TransactionResult& transaction,
                    const std::vector<std::string>& transcript);
  bool continue_stream(const BatchPtr& finished);
  void release_session(const BatchPtr& batch);
  void fail_batch(const BatchPtr& batch, const std::string& warning);
  void accept_answer(const JobPtr& job, const SmtpReply& reply);
  ProbeAnswer record_probe(const std::string& domain, const SmtpReply* reply);
  void end_probes(const BatchPtr& batch);
  void release_parked(const std::string& domain, const ProbeAnswer& answer);
  void apply_probe_answer(ProbeJob& job, const ProbeAnswer& answer);
  void refresh_catch_all(ProbeJob& job);
  void conclude(const JobPtr& job);
  void finish(const JobPtr& job);
  void forget_domain_if_idle(const std::string& domain);
  const std::string& probe_address(const std::string& domain);
  std::string random_local_part();

  asio::io_context& io_;
  std::chrono::milliseconds catch_all_ttl_;
  std::shared_ptr<SmtpPool> pool_;
  CatchAllMemory catch_all_memory_;
  std::unordered_map<std::uint64_t, JobPtr> jobs_;
  std::unordered_map<std::string, HostQueue> queues_;
  std::unordered_map<std::string, DomainState> domains_;
  std::unordered_set<BatchPtr> active_;  // transactions in flight (closed at shutdown)
  // A host whose streaming session is deciding what it sends next: its
  // queue asks the pool for no session meanwhile (the one in hand may do).
  std::string held_host_;
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

const std::string& ProberCore::probe_address(const std::string& domain) {
  DomainState& state = domains_[domain];
  if (state.probe_address.empty()) state.probe_address = random_local_part() + "@" + domain;
  return state.probe_address;
}

}  // namespace

// ------------------------------------------------------------- jobs ---

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
  job->host_reach.assign(job->hosts.size(), std::nullopt);
  for (const auto& timeout : job->request.settings.timeouts) {
    if (timeout.count() > 0) job->timeouts.push_back(timeout);
  }
  if (job->timeouts.empty()) job->timeouts = ProbeSettings{}.timeouts;
  if (job->hosts.empty() || job->request.recipient.empty()) {
    job->warn("nothing to probe: no MX host or no recipient");
    finish(job);
    return;
  }
  // A line break would smuggle in a command of its own, and would break the
  // transaction of every job batched with this one.
  const std::string_view forbidden("\r\n\0", 3);
  if (job->request.recipient.find_first_of(forbidden) != std::string::npos ||
      job->request.domain.find_first_of(forbidden) != std::string::npos) {
    job->warn("refusing to probe an address containing a line break");
    finish(job);
    return;
  }
  job->domain = domain_of(job->request);
  if (!job->domain.empty()) {
    ++domains_[job->domain].jobs;
    job->result.catch_all = catch_all_memory_.recall(job->domain, Clock::now());
    job->awaiting_catch_all = !job->result.catch_all;
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
      job->note_reach(index, MailHostReach::no_answer);  // breaker or back-off: it may pass
      continue;
    }
    chosen = index;
  }
  if (!chosen) {
    finish(job);  // every MX host is unusable; the warnings say why
    return;
  }
  job->host_index = *chosen;
  job->answer.reset();
  pool_->count_probe(job->host());
  enqueue(job, false);
}

void ProberCore::next_attempt(const JobPtr& job) {
  ++job->attempt;
  job->next_host = job->host_index + 1;  // the next MX first, if there is one
  run_attempt(job);
}

// ------------------------------------------------------ host queues ---

void ProberCore::enqueue(const JobPtr& job, bool front) {
  const std::string host = job->host();
  std::deque<JobPtr>& waiting = queues_[host].waiting;
  if (front) {
    waiting.push_front(job);  // it has waited longest
  } else {
    waiting.push_back(job);
  }
  pump_host(host);
}

void ProberCore::pump_host(const std::string& host) {
  if (!held_host_.empty() && host == held_host_) return;  // pumped once it is let go
  const auto found = queues_.find(host);
  if (found == queues_.end()) {
    pool_->set_queued(host, 0);
    return;
  }
  HostQueue& queue = found->second;
  pool_->set_queued(host, queue.waiting.size());
  if (!shut_down_ && !queue.waiting.empty()) {
    // One session per batch's worth of waiting jobs, up to the per-MX limit:
    // more acquisitions would only open sessions that find nothing to do.
    const SmtpOptions& options = pool_->options();
    const std::size_t per_batch = static_cast<std::size_t>(std::max(
        1, std::min(options.max_recipients_per_session, options.max_rejections_per_session)));
    const std::size_t wanted = std::min<std::size_t>(
        (queue.waiting.size() + per_batch - 1) / per_batch,
        static_cast<std::size_t>(std::max(1, options.max_connections_per_mx)));
    std::weak_ptr<ProberCore> weak = shared_from_this();
    while (static_cast<std::size_t>(queue.acquiring) < wanted) {
      ++queue.acquiring;
      pool_->acquire(host, 1, queue.waiting.front()->step_timeout(),
                     [weak, host](SessionLease lease) {
                       if (const auto self = weak.lock()) {
                         self->on_lease(host, std::move(lease));
                       } else if (lease.session) {
                         lease.session->close();
                       }
                     });
    }
  }
  if (queue.waiting.empty() && queue.acquiring == 0) queues_.erase(found);
}

void ProberCore::on_lease(const std::string& host, SessionLease lease) {
  const auto found = queues_.find(host);
  if (found != queues_.end() && found->second.acquiring > 0) --found->second.acquiring;
  if (shut_down_) {
    if (lease.session) pool_->release(host, lease.session);
    return;
  }
  if (lease.problem != LeaseProblem::none) {
    on_lease_problem(host, std::move(lease));
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
  batch->transcript = std::move(lease.transcript);
  batch->warnings = std::move(lease.warnings);
  run_batch(batch);
  pump_host(host);
}

void ProberCore::on_lease_problem(const std::string& host, SessionLease lease) {
  if (lease.problem != LeaseProblem::session_failed) {
    // Shut down, or the host cannot be used at all (breaker, 421 back-off,
    // no address, refused by policy): every job waiting for it is concerned.
    std::deque<JobPtr> waiting;
    const auto found = queues_.find(host);
    if (found != queues_.end()) waiting.swap(found->second.waiting);
    for (const JobPtr& job : waiting) {
      if (job->finished) continue;
      job->add_transcript(lease.transcript);
      for (const std::string& warning : lease.warnings) job->warn(warning);
      if (lease.problem != LeaseProblem::shut_down && !job->answer) job->note_reach(lease.reach);
      if (lease.problem == LeaseProblem::shut_down) {
        job->warn("prober shut down");
        finish(job);
      } else if (job->answer) {
        job->awaiting_catch_all = false;  // only its catch-all probe was pending
        conclude(job);
      } else {
        job->host_unusable[job->host_index] = true;  // no attempt used up
        run_attempt(job);
      }
    }
    return;
  }
  // Connect, greeting, EHLO or STARTTLS failed: it fails the jobs a fresh
  // session would have carried; the others wait for the next one.
  const OpenResult& open = lease.open;
  switch (open.failure) {
    case SessionFailure::timeout:
    case SessionFailure::connection_error:
      pool_->record_failure(host, open.failure == SessionFailure::timeout);
      break;
    case SessionFailure::refused_greeting:
      pool_->record_failure(host, false);
      if (open.reply && open.reply->code == 421) pool_->back_off(host);
      break;
    case SessionFailure::aborted:
      break;
    default:
      pool_->record_success(host);  // it answered: not a dead host
      break;
  }
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
    switch (open.failure) {
      case SessionFailure::timeout:
      case SessionFailure::connection_error:
        next_attempt(job);
        continue;
      case SessionFailure::aborted:
        job->warn("prober shut down");
        break;
      default:
        break;
    }
    job->result.mx_host = host;
    if (open.reply) {
      job->result.enhanced_code = open.reply->enhanced;
      job->result.message = clean_reply_text(open.reply->text());
    }
    finish(job);
  }
  end_probes(group);
}

void ProberCore::refuse_smtputf8(const std::string& host) {
  const auto found = queues_.find(host);
  if (found == queues_.end()) return;
  std::vector<JobPtr> refused;
  std::deque<JobPtr>& waiting = found->second.waiting;
  for (auto it = waiting.begin(); it != waiting.end();) {
    if ((*it)->request.needs_smtputf8 && !(*it)->answer) {
      refused.push_back(std::move(*it));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  for (const JobPtr& job : refused) {
    job->note_reach(MailHostReach::answered);  // its session is open
    job->warn("SMTPUTF8 needed for " + job->request.recipient + " but not offered by " + host);
    job->result.mx_host = host;
    finish(job);
  }
}

// ---------------------------------------------------------- batches ---

BatchPtr ProberCore::take_batch(const std::string& host, int budget, std::optional<bool> smtputf8) {
  auto batch = std::make_shared<Batch>();
  batch->host = host;
  const auto found = queues_.find(host);
  if (found == queues_.end()) return batch;
  std::deque<JobPtr>& waiting = found->second.waiting;
  BatchPlanner planner(budget, smtputf8);
  std::vector<JobPtr> skipped;   // scanned but left queued, in order
  std::vector<JobPtr> answered;  // only waited for a catch-all status now known
  while (!waiting.empty() && !planner.full()) {
    const JobPtr job = waiting.front();
    if (job->finished) {
      waiting.pop_front();
      continue;
    }
    refresh_catch_all(*job);
    if (job->answer && !job->awaiting_catch_all) {
      waiting.pop_front();
      answered.push_back(job);
      continue;
    }
    BatchCandidate candidate;
    candidate.needs_rcpt = !job->answer;
    candidate.smtputf8 = job->request.needs_smtputf8;
    candidate.wants_probe = job->awaiting_catch_all;
    candidate.domain = job->domain;
    if (!job->domain.empty()) {
      const auto domain = domains_.find(job->domain);
      candidate.probe_in_flight = domain != domains_.end() && domain->second.probe_in_flight;
    }
    const BatchTake take = planner.offer(candidate);
    if (take == BatchTake::stop) break;
    waiting.pop_front();
    switch (take) {
      case BatchTake::skip:
        skipped.push_back(job);
        break;
      case BatchTake::attach:
        domains_[job->domain].parked.push_back(job);
        break;
      default: {
        Batch::Entry entry{job, take != BatchTake::probe, 0};
        if (entry.rcpt) {
          entry.rcpt_index = batch->recipients.size();
          batch->recipients.push_back(job->request.recipient);
        }
        if (take != BatchTake::rcpt) {
          domains_[job->domain].probe_in_flight = true;
          batch->probes.emplace_back(job->domain, batch->recipients.size());
          batch->recipients.push_back(probe_address(job->domain));
        }
        batch->entries.push_back(std::move(entry));
        break;
      }
    }
  }
  for (auto it = skipped.rbegin(); it != skipped.rend(); ++it) waiting.push_front(*it);
  batch->smtputf8 = planner.smtputf8();
  for (const JobPtr& job : answered) conclude(job);
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
    settle_batch(batch, transaction, transcript);
    pump_host(host);
    return;
  }
  // The session stays in hand while its answers are settled: a job that
  // now wants its domain's catch-all probe is the next RCPT of the stream.
  held_host_ = host;
  settle_batch(batch, transaction, transcript);
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

void ProberCore::settle_batch(const BatchPtr& batch, const TransactionResult& transaction,
                              const std::vector<std::string>& transcript) {
  const std::string& host = batch->host;
  for (const Batch::Entry& entry : batch->entries) {
    if (entry.job->finished) continue;
    entry.job->add_transcript(transcript);
    for (const std::string& warning : batch->warnings) entry.job->warn(warning);
  }

  const SessionFailure failure = transaction.failure;
  if (failure == SessionFailure::aborted) {
    fail_batch(batch, "prober shut down");
    return;
  }
  const bool mail_accepted = transaction.mail_reply && transaction.mail_reply->code / 100 == 2;
  if (!mail_accepted && failure == SessionFailure::none) {
    if (!transaction.mail_reply) {
      fail_batch(batch, host + ": no reply to MAIL FROM");
      return;
    }
    const SmtpReply& mail = *transaction.mail_reply;
    if (mail.code == 421) {
      pool_->record_failure(host, false);
      pool_->back_off(host);
    }
    for (const Batch::Entry& entry : batch->entries) {
      if (!entry.rcpt || entry.job->finished) continue;
      entry.job->result.enhanced_code = mail.enhanced;
      entry.job->result.message = clean_reply_text(mail.text());
    }
    fail_batch(batch, host + ": MAIL FROM refused: " + std::to_string(mail.code) +
                          (mail.enhanced.empty() ? "" : " " + mail.enhanced));
    return;
  }

  const std::vector<SmtpReply> no_replies;
  const std::vector<SmtpReply>& replies = mail_accepted ? transaction.rcpt_replies : no_replies;
  if (std::any_of(replies.begin(), replies.end(),
                  [](const SmtpReply& reply) { return reply.code == 421; })) {
    pool_->record_failure(host, false);  // the server is closing: once per session
    pool_->back_off(host);
  }
  const bool lost =
      failure == SessionFailure::timeout || failure == SessionFailure::connection_error;
  // An idle session the server had already dropped: not the MX's fault.
  const bool stale =
      batch->reused && failure == SessionFailure::connection_error && replies.empty();
  if (lost && !stale) pool_->record_failure(host, failure == SessionFailure::timeout);
  std::string failure_warning;
  if (lost) {
    failure_warning = host + ": " + transaction.detail;
  } else if (failure != SessionFailure::none) {
    failure_warning = host + ": " + describe(failure) + ": " + transaction.detail;
  }

  // The probes first: their answers decide the batch's "exists".
  std::unordered_map<std::string, ProbeAnswer> probe_answers;
  for (const auto& [domain, index] : batch->probes) {
    probe_answers[domain] =
        record_probe(domain, index < replies.size() ? &replies[index] : nullptr);
  }
  bool blamed = false;
  for (const Batch::Entry& entry : batch->entries) {
    const JobPtr& job = entry.job;
    if (job->finished) continue;
    if (entry.rcpt && entry.rcpt_index < replies.size()) {
      accept_answer(job, replies[entry.rcpt_index]);
    } else if (entry.rcpt) {
      if (failure == SessionFailure::none) {
        // The server stopped answering mid-batch (421): like a lost connection.
        job->warn(host + ": no reply to RCPT TO");
        next_attempt(job);
      } else if (stale && !job->stale_retry_used) {
        job->stale_retry_used = true;
        run_attempt(job);
      } else if (lost) {
        job->warn(failure_warning);  // each job retries on its own schedule
        next_attempt(job);
      } else if (blamed) {
        run_attempt(job);  // another recipient's reply broke the session, not its own
      } else {
        // The first reply missing is the one that went wrong (malformed...).
        blamed = true;
        job->warn(failure_warning);
        job->result.mx_host = host;
        finish(job);
      }
      continue;
    }
    const auto answer = probe_answers.find(job->domain);
    if (answer != probe_answers.end()) apply_probe_answer(*job, answer->second);
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

void ProberCore::accept_answer(const JobPtr& job, const SmtpReply& reply) {
  const std::string& host = job->host();
  ProbeResult& result = job->result;
  const RcptVerdict verdict = classify_rcpt_reply(reply);
  job->answer = reply;
  result.mx_host = host;
  result.code = reply.code;
  result.enhanced_code = reply.enhanced;
  result.message = clean_reply_text(reply.text());
  result.mailbox_full = verdict == RcptVerdict::mailbox_full;
  if (verdict == RcptVerdict::greylisted) result.greylisted = true;
  if (verdict == RcptVerdict::policy_refusal) job->warn(host + ": refused by policy");
}

// ------------------------------------------------- catch-all probes ---

ProbeAnswer ProberCore::record_probe(const std::string& domain, const SmtpReply* reply) {
  ProbeAnswer answer;
  domains_[domain].probe_in_flight = false;
  if (reply) {
    answer.replied = true;
    const RcptVerdict verdict = classify_rcpt_reply(*reply);
    if (verdict == RcptVerdict::exists) answer.catch_all = true;
    if (verdict == RcptVerdict::does_not_exist) answer.catch_all = false;
    if (answer.catch_all)
      catch_all_memory_.remember(domain, *answer.catch_all, Clock::now(), catch_all_ttl_);
  }
  return answer;
}

// The batch's probes ended without replies: whoever waited may ask again.
void ProberCore::end_probes(const BatchPtr& batch) {
  for (const auto& probe : batch->probes) {
    const ProbeAnswer answer = record_probe(probe.first, nullptr);
    release_parked(probe.first, answer);
  }
}

void ProberCore::release_parked(const std::string& domain, const ProbeAnswer& answer) {
  const auto found = domains_.find(domain);
  if (found == domains_.end()) return;
  std::vector<JobPtr> parked;
  parked.swap(found->second.parked);
  for (const JobPtr& job : parked) {
    if (job->finished) continue;
    apply_probe_answer(*job, answer);
    conclude(job);
  }
  forget_domain_if_idle(domain);
}

void ProberCore::apply_probe_answer(ProbeJob& job, const ProbeAnswer& answer) {
  if (!job.awaiting_catch_all) return;
  if (answer.catch_all) {
    job.result.catch_all = answer.catch_all;
    job.catch_all_seen_now = *answer.catch_all;
    job.awaiting_catch_all = false;
    job.distrust_memory = false;
  } else if (answer.replied) {
    job.awaiting_catch_all = false;  // an inconclusive reply: the status stays unknown
  }
}

void ProberCore::refresh_catch_all(ProbeJob& job) {
  if (!job.awaiting_catch_all || job.distrust_memory) return;
  if (const std::optional<bool> known = catch_all_memory_.recall(job.domain, Clock::now())) {
    job.result.catch_all = known;
    job.awaiting_catch_all = false;
  }
}

// The job has its own answer: finish it, or wait for its domain's catch-all
// status, or schedule the extended-depth retry.
void ProberCore::conclude(const JobPtr& job) {
  if (job->finished) return;
  if (!job->answer) {
    run_attempt(job);  // nothing to conclude from: probe it
    return;
  }
  refresh_catch_all(*job);
  const SmtpReply& reply = *job->answer;
  const RcptVerdict verdict = classify_rcpt_reply(reply);
  if (job->awaiting_catch_all && verdict == RcptVerdict::exists) {
    // A catch-all domain accepts anyone: "exists" needs the domain's status.
    DomainState& domain = domains_[job->domain];
    if (domain.probe_in_flight) {
      domain.parked.push_back(job);
      return;
    }
    if (job->probe_requests < kMaxProbeRequests) {
      ++job->probe_requests;
      enqueue(job, true);  // to the host that answered, for the probe only
      return;
    }
    job->awaiting_catch_all = false;  // the status stays unknown
  }

  ProbeResult& result = job->result;
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

  const std::string& host = job->host();
  const bool depth_retry = job->request.settings.extended && !job->depth_retry_done &&
                           (verdict == RcptVerdict::greylisted || job->catch_all_seen_now);
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
  if (job->catch_all_seen_now) {
    job->awaiting_catch_all = true;  // the domain's probe is repeated too
    job->distrust_memory = true;
  } else if (!result.catch_all && !job->domain.empty()) {
    job->awaiting_catch_all = true;  // the probe may answer this time
  }
  job->catch_all_seen_now = false;
  job->probe_requests = 0;
  job->attempt = 0;
  job->next_host = job->host_index;  // greylisting is remembered per server
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
  if (!job->domain.empty()) {
    const auto domain = domains_.find(job->domain);
    if (domain != domains_.end()) {
      --domain->second.jobs;
      forget_domain_if_idle(job->domain);
    }
  }
  if (job->result.outcome == SmtpOutcome::not_attempted)
    job->result.outcome = SmtpOutcome::inconclusive;
  job->result.reach = job->answer ? MailHostReach::answered : summarise_reach(job->host_reach);
  job->result.port25_known_working = pool_->port25_known_working();
  asio::post(io_, [done = std::move(job->done), result = std::move(job->result)]() mutable {
    try {
      if (done) done(std::move(result));
    } catch (...) {
      // The caller's callback must not throw into the event loop.
    }
  });
}

void ProberCore::forget_domain_if_idle(const std::string& domain) {
  const auto found = domains_.find(domain);
  if (found == domains_.end()) return;
  const DomainState& state = found->second;
  if (state.jobs <= 0 && !state.probe_in_flight && state.parked.empty()) domains_.erase(found);
}

// ------------------------------------------------------- the prober ---

void ProberCore::set_options(SmtpOptions options) {
  catch_all_ttl_ = options.catch_all_memory;
  pool_->set_options(std::move(options));
  // New limits may allow more sessions for the jobs already waiting.
  std::vector<std::string> hosts;
  for (const auto& entry : queues_) hosts.push_back(entry.first);
  for (const std::string& host : hosts) pump_host(host);
}

void ProberCore::remember_catch_all(const std::string& domain, bool catch_all,
                                    std::chrono::milliseconds ttl) {
  catch_all_memory_.remember(lower_host(domain), catch_all, Clock::now(), ttl);
}

void ProberCore::shutdown() {
  shut_down_ = true;
  for (const BatchPtr& batch : active_) batch->session->close();  // their handlers find jobs done
  active_.clear();
  for (const auto& entry : queues_) pool_->set_queued(entry.first, 0);
  queues_.clear();
  std::unordered_map<std::uint64_t, JobPtr> jobs;
  jobs.swap(jobs_);
  for (auto& [id, job] : jobs) {
    job->warn("prober shut down");
    finish(job);
  }
  domains_.clear();
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

void SmtpProber::remember_catch_all(std::string domain, bool catch_all,
                                    std::chrono::milliseconds ttl) {
  asio::post(impl_->io, [core = impl_->core, domain = std::move(domain), catch_all, ttl] {
    try {
      core->remember_catch_all(domain, catch_all, ttl);
    } catch (...) {
    }
  });
}

void SmtpProber::restore_breaker(std::string host, std::chrono::milliseconds remaining) {
  asio::post(impl_->io, [core = impl_->core, host = std::move(host), remaining] {
    try {
      core->restore_breaker(host, remaining);
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

SmtpProber::OutboundState SmtpProber::outbound_state() const {
  return impl_->core->outbound_state();
}

const char* describe(MailHostReach reach) {
  switch (reach) {
    case MailHostReach::answered:
      return "answered";
    case MailHostReach::no_address:
      return "no address";
    case MailHostReach::off_limits:
      return "off limits";
    case MailHostReach::refused:
      return "refused";
    case MailHostReach::no_answer:
      return "no answer";
    case MailHostReach::port25_blocked:
      return "port 25 blocked";
  }
  return "unknown";
}

}  // namespace mailsentry
