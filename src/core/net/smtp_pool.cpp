#include "net/smtp_pool.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <utility>

namespace mailsentry {

namespace {

// A polite QUIT must not hold a connection slot for long.
constexpr std::chrono::milliseconds kQuitTimeout{2000};

}  // namespace

SmtpPool::SmtpPool(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
    : io_(io),
      options_(std::move(options)),
      outbound_health_(std::make_shared<OutboundSmtpHealth>(options_.outbound_health)),
      opener_(std::make_shared<SessionOpener>(io, std::move(resolve_host), options_,
                                              outbound_health_)) {}

SmtpPool::~SmtpPool() {
  // Sessions outlive the pool only as long as their pending handlers.
  opener_->close_opening();
  for (const auto& [host, session] : idle_.take_all()) session->close();
}

void SmtpPool::set_options(SmtpOptions options) {
  options_ = std::move(options);
  outbound_health_->set_options(options_.outbound_health);
  opener_->set_options(options_);
  for (const auto& [host, session] : idle_.take_all()) quit_session(host, session);
  pump();
}

std::string SmtpPool::unavailable_reason(const std::string& host) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end()) return {};
  return found->second.unavailable_reason(host, Clock::now());
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

void SmtpPool::pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (shut_down_) break;
      const std::string& host = it->host;
      std::string reason = hosts_[host].unavailable_reason(host, Clock::now());
      if (!reason.empty()) {
        SessionLease lease;
        lease.problem = LeaseProblem::unavailable;
        lease.warnings.push_back(std::move(reason));
        deliver(std::move(it->done), std::move(lease));
        it = waiters_.erase(it);
        continue;
      }
      const int needed = it->recipients_needed;
      if (auto session = idle_.take_newest(host, [&](const SmtpSession& idle) {
            return idle.usable() && fits_caps(idle, needed);
          })) {
        SessionLease lease;
        lease.session = std::move(session);
        lease.reused = true;
        deliver(std::move(it->done), std::move(lease));
        it = waiters_.erase(it);
        continue;
      }
      switch (slots_.verdict(host, options_)) {
        case ConnectionSlots::Verdict::open: {
          slots_.take(host);
          Waiter waiter = std::move(*it);
          it = waiters_.erase(it);
          open_session(std::move(waiter));
          continue;
        }
        case ConnectionSlots::Verdict::make_room_elsewhere:
          quit_one_idle_elsewhere(host);  // its slot frees when the QUIT is done
          break;
        case ConnectionSlots::Verdict::host_full:
          // Idle sessions here cannot take this request (caps, closed by the
          // server): make room for a fresh one, and look at the request again.
          if (auto oldest = idle_.take_oldest(host)) {
            end_session(host, oldest);
            continue;
          }
          break;
        case ConnectionSlots::Verdict::wait:
          break;
      }
      ++it;
    }
  } while (pump_again_);
  pumping_ = false;
  refresh_stats();
}

void SmtpPool::quit_one_idle_elsewhere(const std::string& host) {
  auto [name, session] = idle_.take_oldest_elsewhere(host);
  if (session) quit_session(name, session);
}

void SmtpPool::open_session(Waiter waiter) {
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  const std::string host = waiter.host;
  const std::chrono::milliseconds step_timeout = waiter.step_timeout;
  opener_->open(host, step_timeout, [weak, waiter = std::move(waiter)](SessionLease lease) mutable {
    if (const auto self = weak.lock()) self->on_opened(std::move(waiter), std::move(lease));
  });
}

void SmtpPool::on_opened(Waiter waiter, SessionLease lease) {
  if (shut_down_) {
    if (lease.session) {
      quit_session(waiter.host, lease.session);
    } else {
      slot_freed(waiter.host);
    }
    SessionLease refused;
    refused.problem = LeaseProblem::shut_down;
    refused.reach = MailHostReach::no_answer;
    deliver(std::move(waiter.done), std::move(refused));
    return;
  }
  if (!lease.session) slot_freed(waiter.host);
  deliver(std::move(waiter.done), std::move(lease));
}

void SmtpPool::release(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  if (!session) return;
  if (shut_down_ || !session->usable()) {
    end_session(host, session);
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
  idle_.park(host, session, std::move(timer));
}

void SmtpPool::on_idle_timeout(const std::string& host, const std::weak_ptr<SmtpSession>& weak) {
  const auto session = weak.lock();
  if (session && idle_.remove(host, session)) end_session(host, session);
}

void SmtpPool::end_session(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  if (session->usable()) {
    quit_session(host, session);
  } else {
    close_session(host, session);
  }
}

void SmtpPool::quit_session(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  slots_.quit_started();
  std::weak_ptr<SmtpPool> weak = shared_from_this();
  session->quit(kQuitTimeout, [weak, host] {
    if (const auto self = weak.lock()) {
      self->slots_.quit_ended();
      self->slot_freed(host);
    }
  });
}

void SmtpPool::close_session(const std::string& host, const std::shared_ptr<SmtpSession>& session) {
  session->close();
  slot_freed(host);
}

void SmtpPool::slot_freed(const std::string& host) {
  slots_.free(host);
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
  hosts_[host].restore_breaker(remaining, Clock::now(), options_);
  refresh_stats();
}

void SmtpPool::record_failure(const std::string& host, bool timeout) {
  if (hosts_[host].record_failure(timeout, Clock::now(), options_)) {
    pump();  // queued requests for this host now fail fast
  } else {
    refresh_stats();
  }
}

void SmtpPool::back_off(const std::string& host) {
  hosts_[host].back_off(Clock::now(), options_);
  pump();
}

void SmtpPool::count_probe(const std::string& host) { ++hosts_[host].probes; }

void SmtpPool::set_queued(const std::string& host, std::size_t jobs) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end() && jobs == 0) return;
  MxHealth& health = found == hosts_.end() ? hosts_[host] : found->second;
  // Every acquire and release refreshes the figures; between them only a
  // queue that empties or starts needs to show at once.
  if (health.set_queued(jobs)) refresh_stats();
}

void SmtpPool::shutdown() {
  shut_down_ = true;
  opener_->shutdown();
  std::deque<Waiter> waiters = std::move(waiters_);
  waiters_.clear();
  for (Waiter& waiter : waiters) {
    SessionLease lease;
    lease.problem = LeaseProblem::shut_down;
    deliver(std::move(waiter.done), std::move(lease));
  }
  for (const auto& [host, session] : idle_.take_all()) end_session(host, session);
  refresh_stats();
}

void SmtpPool::refresh_stats() {
  std::vector<SmtpProber::MxStats> snapshot;
  snapshot.reserve(hosts_.size());
  const Clock::time_point now = Clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  for (const auto& [host, health] : hosts_)
    snapshot.push_back(health.stats(host, slots_.sessions(host), now, wall_now));
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
  return outbound_health_->state(Clock::now());
}

bool SmtpPool::port25_known_working() const {
  return outbound_health_->known_working(Clock::now());
}

}  // namespace mailsentry
