#include "net/smtp_pool.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <limits>
#include <utility>

namespace mailsentry {

namespace {

// A polite QUIT must not hold a connection slot for long.
constexpr std::chrono::milliseconds kQuitTimeout{2000};

std::shared_ptr<asio::ssl::context> make_probe_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // A probe sends no message: certificates are not verified (RFC 7435
  // opportunistic security), the handshake only hides the envelope.
  context->set_verify_mode(asio::ssl::verify_none);
  return context;
}

}  // namespace

SmtpPool::SmtpPool(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
    : io_(io),
      resolve_host_(std::move(resolve_host)),
      options_(std::move(options)),
      tls_context_(make_probe_tls_context()),
      outbound_health_(options_.outbound_health) {}

SmtpPool::~SmtpPool() {
  // Sessions outlive the pool only as long as their pending handlers.
  close_opening_sessions();
  for (auto& [host, state] : hosts_) {
    for (IdleSession& idle : state.idle) {
      idle.timer->cancel();
      idle.session->close();
    }
  }
}

void SmtpPool::set_options(SmtpOptions options) {
  options_ = std::move(options);
  outbound_health_.set_options(options_.outbound_health);
  for (auto& [host, state] : hosts_) {
    while (!state.idle.empty()) {
      IdleSession idle = std::move(state.idle.front());
      state.idle.pop_front();
      idle.timer->cancel();
      quit_session(host, idle.session);
    }
  }
  pump();
}

std::string SmtpPool::unavailable_reason(const std::string& host) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end()) return {};
  const Clock::time_point now = Clock::now();
  if (found->second.breaker.is_open(now)) return "circuit breaker open for " + host;
  if (now < found->second.backoff_until) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(found->second.backoff_until - now);
    return "backing off from " + host + " after 421 (" + std::to_string(left.count()) + " ms left)";
  }
  return {};
}

void SmtpPool::acquire(const std::string& host, int recipients_needed,
                       std::chrono::milliseconds step_timeout, LeaseHandler done) {
  if (shut_down_) {
    SessionLease lease;
    lease.problem = LeaseProblem::shut_down;
    deliver(std::move(done), std::move(lease));
    return;
  }
  hosts_[host];  // the host shows in stats from its first request
  waiters_.push_back(Waiter{host, recipients_needed, step_timeout, std::move(done)});
  pump();
}

bool SmtpPool::fits_caps(const SmtpSession& session, int more_recipients) const {
  return session.recipients_sent() + more_recipients <=
             std::max(1, options_.max_recipients_per_session) &&
         session.rejections() < std::max(1, options_.max_rejections_per_session);
}

std::shared_ptr<SmtpSession> SmtpPool::take_idle(HostState& state, int recipients_needed) {
  // Most recently used first: it is the likeliest to still be open.
  for (auto it = state.idle.end(); it != state.idle.begin();) {
    --it;
    if (!it->session->usable() || !fits_caps(*it->session, recipients_needed)) continue;
    std::shared_ptr<SmtpSession> session = std::move(it->session);
    it->timer->cancel();
    state.idle.erase(it);
    return session;
  }
  return nullptr;
}

void SmtpPool::pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    const int per_mx_limit = std::max(1, options_.max_connections_per_mx);
    const int total_limit = std::max(1, options_.max_connections_total);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (shut_down_) break;
      HostState& state = hosts_[it->host];
      std::string reason = unavailable_reason(it->host);
      if (!reason.empty()) {
        SessionLease lease;
        lease.problem = LeaseProblem::unavailable;
        lease.warnings.push_back(std::move(reason));
        deliver(std::move(it->done), std::move(lease));
        it = waiters_.erase(it);
        continue;
      }
      if (std::shared_ptr<SmtpSession> session = take_idle(state, it->recipients_needed)) {
        SessionLease lease;
        lease.session = std::move(session);
        lease.reused = true;
        deliver(std::move(it->done), std::move(lease));
        it = waiters_.erase(it);
        continue;
      }
      if (state.sessions < per_mx_limit && total_sessions_ >= total_limit && quitting_ == 0) {
        quit_one_idle_elsewhere(it->host);  // its slot frees when the QUIT is done
      }
      if (state.sessions < per_mx_limit && total_sessions_ < total_limit) {
        ++state.sessions;
        ++total_sessions_;
        Waiter waiter = std::move(*it);
        it = waiters_.erase(it);
        open_session(std::move(waiter));
        continue;
      }
      if (state.sessions >= per_mx_limit && !state.idle.empty()) {
        // Idle sessions here cannot take this request (caps, closed by the
        // server): make room for a fresh one.
        IdleSession idle = std::move(state.idle.front());
        state.idle.pop_front();
        idle.timer->cancel();
        if (idle.session->usable()) {
          quit_session(it->host, idle.session);
        } else {
          close_session(it->host, idle.session);
        }
        continue;  // re-examine the same waiter
      }
      ++it;
    }
  } while (pump_again_);
  pumping_ = false;
  refresh_stats();
}

void SmtpPool::quit_one_idle_elsewhere(const std::string& host) {
  HostState* oldest_state = nullptr;
  const std::string* oldest_host = nullptr;
  for (auto& [name, state] : hosts_) {
    if (name == host || state.idle.empty()) continue;
    if (!oldest_state ||
        state.idle.front().session->last_used() < oldest_state->idle.front().session->last_used()) {
      oldest_state = &state;
      oldest_host = &name;
    }
  }
  if (!oldest_state) return;
  IdleSession idle = std::move(oldest_state->idle.front());
  oldest_state->idle.pop_front();
  idle.timer->cancel();
  quit_session(*oldest_host, idle.session);
}

SessionConfig SmtpPool::session_config(const std::string& host) const {
  SessionConfig config;
  config.server_name = host;
  config.helo_name = options_.helo_name;
  config.mail_from = options_.mail_from;
  config.try_starttls = options_.starttls != StartTlsMode::off;
  config.require_starttls = options_.starttls == StartTlsMode::required;
  config.log_transcript = options_.log_transcripts;
  return config;
}

void SmtpPool::open_session(Waiter waiter) {
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  const std::string host = waiter.host;
  auto pending = std::make_shared<Waiter>(std::move(waiter));
  auto on_answer = [weak, pending](AddressAnswer answer) {
    const auto self = weak.lock();
    if (!self || !pending->done) return;  // gone, or answered twice
    // The resolver may answer from inside resolve_host_(): continue from the loop.
    asio::post(self->io_,
               [weak, waiter = std::move(*pending), answer = std::move(answer)]() mutable {
                 if (const auto pool = weak.lock())
                   pool->on_resolved(std::move(waiter), std::move(answer));
               });
    pending->done = nullptr;
  };
  try {
    resolve_host_(host, std::move(on_answer));
  } catch (...) {
    if (!pending->done) return;
    AddressAnswer failed;
    failed.error = "resolver failed";
    asio::post(io_, [weak, waiter = std::move(*pending), failed = std::move(failed)]() mutable {
      if (const auto pool = weak.lock()) pool->on_resolved(std::move(waiter), std::move(failed));
    });
    pending->done = nullptr;
  }
}

void SmtpPool::fail_opening(Waiter waiter, LeaseProblem problem, MailHostReach reach,
                            std::vector<std::string> warnings) {
  slot_freed(waiter.host);
  SessionLease lease;
  lease.problem = problem;
  lease.reach = reach;
  lease.warnings = std::move(warnings);
  deliver(std::move(waiter.done), std::move(lease));
}

void SmtpPool::on_resolved(Waiter waiter, AddressAnswer answer) {
  if (shut_down_) {
    fail_opening(std::move(waiter), LeaseProblem::shut_down, MailHostReach::no_answer, {});
    return;
  }
  if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
    // NXDOMAIN or no data is the host's own fact; a failed lookup may pass.
    const MailHostReach reach = answer.status == DnsStatus::inconclusive
                                    ? MailHostReach::no_answer
                                    : MailHostReach::no_address;
    std::string warning =
        "no address for MX host " + waiter.host + (answer.error.empty() ? "" : ": " + answer.error);
    fail_opening(std::move(waiter), LeaseProblem::resolution_failed, reach, {std::move(warning)});
    return;
  }
  // The policy is checked on the very addresses connected to (no DNS rebinding).
  std::vector<asio::ip::address> allowed;
  std::vector<std::string> warnings;
  for (const asio::ip::address& address : answer.addresses) {
    std::string refusal = options_.address_policy.check(address);
    if (refusal.empty()) {
      allowed.push_back(address);
    } else {
      warnings.push_back(std::move(refusal));
    }
  }
  if (allowed.empty()) {
    fail_opening(std::move(waiter), LeaseProblem::policy_refused, MailHostReach::off_limits,
                 std::move(warnings));
    return;
  }
  // Resolution and policy come first: what they say holds whatever port 25 does.
  if (!outbound_health_.allow_new_connection(Clock::now())) {
    warnings.emplace_back(kPort25BlockedWarning);
    fail_opening(std::move(waiter), LeaseProblem::port25_blocked, MailHostReach::port25_blocked,
                 std::move(warnings));
    return;
  }
  Opening opening;
  opening.waiter = std::move(waiter);
  opening.addresses = std::move(allowed);
  opening.warnings = std::move(warnings);
  connect_to(std::move(opening));
}

std::optional<asio::ip::address> SmtpPool::next_source(const asio::ip::address& target) {
  const auto& sources = options_.source_addresses;
  for (std::size_t tried = 0; tried < sources.size(); ++tried) {
    const asio::ip::address& candidate = sources[source_index_++ % sources.size()];
    if (candidate.is_v4() == target.is_v4()) return candidate;
  }
  return std::nullopt;
}

void SmtpPool::connect_to(Opening opening) {
  const asio::ip::address address = opening.addresses[opening.index];
  auto session = SmtpSession::create(io_, tls_context_, session_config(opening.waiter.host));
  const std::chrono::milliseconds step_timeout = opening.waiter.step_timeout;
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  std::weak_ptr<SmtpSession> weak_session = session;
  opening_.push_back(weak_session);
  session->open(asio::ip::tcp::endpoint(address, options_.port), next_source(address), step_timeout,
                [weak, weak_session, opening = std::move(opening)](OpenResult result) mutable {
                  const auto self = weak.lock();
                  const auto session = weak_session.lock();
                  if (!self || !session) return;
                  self->on_opened(std::move(opening), session, std::move(result));
                });
}

// Feeds the port 25 health with the TCP outcome and says what the failed
// opening tells about the host.
MailHostReach SmtpPool::record_connect(const std::string& host, const OpenResult& result,
                                       bool every_connect_refused) {
  const Clock::time_point now = Clock::now();
  switch (result.tcp) {
    case TcpConnect::connected:
      outbound_health_.record(host, ConnectOutcome::succeeded, now);
      break;
    case TcpConnect::timed_out:
      outbound_health_.record(host, ConnectOutcome::timed_out, now);
      break;
    case TcpConnect::refused:
    case TcpConnect::unreachable:
      outbound_health_.record(host, ConnectOutcome::refused, now);
      break;
    case TcpConnect::not_attempted:
    case TcpConnect::failed:
      break;
  }
  if (result.failure == SessionFailure::none || result.greeted) return MailHostReach::answered;
  if (result.tcp == TcpConnect::connected) {
    // Something listens; garbage instead of a greeting is not a mail server.
    return result.failure == SessionFailure::malformed_reply ? MailHostReach::refused
                                                             : MailHostReach::no_answer;
  }
  const bool port25_evidence = result.tcp == TcpConnect::timed_out ||
                               result.tcp == TcpConnect::refused ||
                               result.tcp == TcpConnect::unreachable;
  if (port25_evidence && outbound_health_.blocked()) return MailHostReach::port25_blocked;
  if (result.tcp == TcpConnect::refused && every_connect_refused) return MailHostReach::refused;
  return MailHostReach::no_answer;
}

void SmtpPool::on_opened(Opening opening, const std::shared_ptr<SmtpSession>& session,
                         OpenResult result) {
  opening_.erase(std::remove_if(opening_.begin(), opening_.end(),
                                [&](const std::weak_ptr<SmtpSession>& entry) {
                                  const auto locked = entry.lock();
                                  return !locked || locked == session;
                                }),
                 opening_.end());
  std::vector<std::string> lines = session->take_transcript();
  opening.transcript.insert(opening.transcript.end(), lines.begin(), lines.end());
  Waiter& waiter = opening.waiter;
  if (shut_down_) {
    quit_session(waiter.host, session);
    SessionLease lease;
    lease.problem = LeaseProblem::shut_down;
    lease.reach = MailHostReach::no_answer;
    deliver(std::move(waiter.done), std::move(lease));
    return;
  }
  const MailHostReach reach = record_connect(waiter.host, result, opening.every_connect_refused);
  if (result.failure == SessionFailure::none) {
    SessionLease lease;
    lease.session = session;
    lease.warnings = std::move(opening.warnings);
    lease.transcript = std::move(opening.transcript);
    deliver(std::move(waiter.done), std::move(lease));
    return;
  }
  // Refused or reset: the host's next address, within the same attempt.
  if (result.failure == SessionFailure::connection_error &&
      opening.index + 1 < opening.addresses.size()) {
    opening.warnings.push_back(waiter.host + " [" + session->peer() + "]: " + result.detail);
    opening.every_connect_refused =
        opening.every_connect_refused && result.tcp == TcpConnect::refused;
    ++opening.index;
    connect_to(std::move(opening));
    return;
  }
  slot_freed(waiter.host);
  SessionLease lease;
  lease.problem = LeaseProblem::session_failed;
  lease.reach = reach;
  lease.open = std::move(result);
  lease.warnings = std::move(opening.warnings);
  if (reach == MailHostReach::port25_blocked) lease.warnings.emplace_back(kPort25BlockedWarning);
  lease.transcript = std::move(opening.transcript);
  deliver(std::move(waiter.done), std::move(lease));
}

void SmtpPool::release(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  if (!session) return;
  if (shut_down_ || !session->usable()) {
    if (session->usable()) {
      quit_session(host, session);
    } else {
      close_session(host, session);
    }
    return;
  }
  if (!fits_caps(*session, 1)) {
    quit_session(host, session);  // past a cap: a fresh session takes over
    return;
  }
  park_idle(host, session);
  pump();
}

void SmtpPool::park_idle(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  auto timer = std::make_shared<asio::steady_timer>(io_, options_.idle_timeout);
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  std::weak_ptr<SmtpSession> weak_session = session;
  timer->async_wait([weak, host, weak_session](const std::error_code& error) {
    if (error) return;
    if (const auto self = weak.lock()) self->on_idle_timeout(host, weak_session);
  });
  hosts_[host].idle.push_back(IdleSession{session, std::move(timer)});
}

void SmtpPool::on_idle_timeout(const std::string& host, const std::weak_ptr<SmtpSession>& weak) {
  const auto session = weak.lock();
  if (!session) return;
  HostState& state = hosts_[host];
  const auto it = std::find_if(state.idle.begin(), state.idle.end(),
                               [&](const IdleSession& idle) { return idle.session == session; });
  if (it == state.idle.end()) return;
  state.idle.erase(it);
  if (session->usable()) {
    quit_session(host, session);
  } else {
    close_session(host, session);
  }
}

void SmtpPool::quit_session(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  ++quitting_;
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  session->quit(kQuitTimeout, [weak, host] {
    if (const auto self = weak.lock()) {
      --self->quitting_;
      self->slot_freed(host);
    }
  });
}

void SmtpPool::close_session(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  session->close();
  slot_freed(host);
}

void SmtpPool::slot_freed(const std::string& host) {
  HostState& state = hosts_[host];
  state.sessions = std::max(0, state.sessions - 1);
  total_sessions_ = std::max(0, total_sessions_ - 1);
  pump();
}

void SmtpPool::deliver(LeaseHandler done, SessionLease lease) {
  asio::post(io_, [done = std::move(done), lease = std::move(lease)]() mutable {
    try {
      if (done) done(std::move(lease));
    } catch (...) {
      // Nothing may escape into the event loop.
    }
  });
}

void SmtpPool::record_success(const std::string& host) { hosts_[host].breaker.record_success(); }

void SmtpPool::restore_breaker(const std::string& host, std::chrono::milliseconds remaining) {
  if (remaining <= std::chrono::milliseconds::zero()) return;
  // Never longer than a cooldown of the current settings.
  const auto open_for = std::min(remaining, options_.breaker_cooldown);
  hosts_[host].breaker.restore_open(Clock::now() + open_for, options_.breaker_failure_threshold);
  refresh_stats();
}

void SmtpPool::record_failure(const std::string& host, bool timeout) {
  HostState& state = hosts_[host];
  ++(timeout ? state.timeouts : state.errors);
  if (state.breaker.record_failure(Clock::now(), options_.breaker_failure_threshold,
                                   options_.breaker_cooldown)) {
    pump();  // queued requests for this host now fail fast
  } else {
    refresh_stats();
  }
}

void SmtpPool::back_off(const std::string& host) {
  hosts_[host].backoff_until = Clock::now() + options_.backoff_after_421;
  pump();
}

void SmtpPool::count_probe(const std::string& host) { ++hosts_[host].probes; }

void SmtpPool::set_queued(const std::string& host, std::size_t jobs) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end() && jobs == 0) return;
  HostState& state = found == hosts_.end() ? hosts_[host] : found->second;
  const bool emptied_or_started = (state.queued == 0) != (jobs == 0);
  state.queued = jobs;
  // Every acquire and release refreshes the figures; between them only a
  // queue that empties or starts needs to show at once.
  if (emptied_or_started) refresh_stats();
}

void SmtpPool::close_opening_sessions() {
  std::vector<std::weak_ptr<SmtpSession>> opening;
  opening.swap(opening_);
  for (const auto& weak : opening) {
    if (const auto session = weak.lock()) session->close();  // ends with aborted
  }
}

void SmtpPool::shutdown() {
  shut_down_ = true;
  close_opening_sessions();
  std::deque<Waiter> waiters = std::move(waiters_);
  waiters_.clear();
  for (Waiter& waiter : waiters) {
    SessionLease lease;
    lease.problem = LeaseProblem::shut_down;
    deliver(std::move(waiter.done), std::move(lease));
  }
  for (auto& [host, state] : hosts_) {
    while (!state.idle.empty()) {
      IdleSession idle = std::move(state.idle.front());
      state.idle.pop_front();
      idle.timer->cancel();
      if (idle.session->usable()) {
        quit_session(host, idle.session);
      } else {
        close_session(host, idle.session);
      }
    }
  }
  refresh_stats();
}

void SmtpPool::refresh_stats() {
  std::vector<SmtpProber::MxStats> snapshot;
  snapshot.reserve(hosts_.size());
  const Clock::time_point now = Clock::now();
  for (const auto& [host, state] : hosts_) {
    SmtpProber::MxStats stats;
    stats.host = host;
    stats.sessions_open = state.sessions;
    stats.queued =
        static_cast<int>(std::min<std::size_t>(state.queued, std::numeric_limits<int>::max()));
    stats.probes = state.probes;
    stats.timeouts = state.timeouts;
    stats.errors = state.errors;
    stats.breaker_open = state.breaker.is_open(now);
    if (stats.breaker_open)
      stats.breaker_open_until = std::chrono::system_clock::now() +
                                 std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                     state.breaker.open_until() - now);
    snapshot.push_back(std::move(stats));
  }
  std::sort(snapshot.begin(), snapshot.end(),
            [](const auto& a, const auto& b) { return a.host < b.host; });
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_snapshot_ = std::move(snapshot);
}

std::vector<SmtpProber::MxStats> SmtpPool::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_snapshot_;
}

SmtpProber::OutboundState SmtpPool::outbound_state() const {
  return outbound_health_.state(Clock::now());
}

bool SmtpPool::port25_known_working() const { return outbound_health_.known_working(Clock::now()); }

}  // namespace mailsentry
