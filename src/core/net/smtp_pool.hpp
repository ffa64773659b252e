// Sessions per MX host: a FIFO queue of waiting requests served by reusing
// an idle session (IdleSessions) or opening one (SessionOpener) within the
// per-MX and overall connection limits (ConnectionSlots), unless the host's
// health (MxHealth: circuit breaker, back-off after a 421) says to fail fast.
// Runs on the io_context thread only, except stats() and outbound_state(),
// which any thread may call.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/connection_slots.hpp"
#include "net/idle_sessions.hpp"
#include "net/mx_health.hpp"
#include "net/outbound_smtp_health.hpp"
#include "net/session_lease.hpp"
#include "net/session_opener.hpp"
#include "net/smtp_prober.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

class SmtpPool : public std::enable_shared_from_this<SmtpPool> {
 public:
  using Clock = std::chrono::steady_clock;
  using LeaseHandler = std::function<void(SessionLease)>;

  SmtpPool(asio::io_context& io, HostResolver resolve_host, SmtpOptions options);
  ~SmtpPool();
  SmtpPool(const SmtpPool&) = delete;
  SmtpPool& operator=(const SmtpPool&) = delete;

  const SmtpOptions& options() const { return options_; }
  // New limits apply at once; idle sessions (made with the old settings) are closed.
  void set_options(SmtpOptions options);

  // "" when requests may go to `host`; otherwise the warning for the result.
  std::string unavailable_reason(const std::string& host);
  // Hands out an idle session for `host`, or opens one within the limits, or
  // queues the request. `done` is posted to the io_context, exactly once.
  void acquire(const std::string& host, int recipients_needed,
               std::chrono::milliseconds step_timeout, LeaseHandler done);
  // Every leased session comes back here: kept idle, or QUIT past a cap, or
  // closed when broken.
  void release(const std::string& host, const std::shared_ptr<SmtpSession>& session);

  void record_success(const std::string& host);
  void record_failure(const std::string& host, bool timeout);
  void back_off(const std::string& host);  // after a 421
  void restore_breaker(const std::string& host, std::chrono::milliseconds remaining);
  void count_probe(const std::string& host);
  // Probes waiting for a session to `host` in the prober (MxStats::queued).
  void set_queued(const std::string& host, std::size_t jobs);

  // QUITs idle sessions, fails queued requests; later leases are refused.
  void shutdown();
  std::vector<SmtpProber::MxStats> stats() const;
  // Any thread.
  SmtpProber::OutboundState outbound_state() const;
  bool port25_known_working() const;

 private:
  struct Waiter {
    std::string host;
    int recipients_needed = 1;
    std::chrono::milliseconds step_timeout{1500};
    LeaseHandler done;
  };

  void pump();
  bool fits_caps(const SmtpSession& session, int more_recipients) const;
  void open_session(Waiter waiter);
  void on_opened(Waiter waiter, SessionLease lease);
  void park_idle(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void on_idle_timeout(const std::string& host, const std::weak_ptr<SmtpSession>& session);
  // QUIT when usable, else close: either way its slot is freed once closed.
  void end_session(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void quit_session(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void close_session(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void quit_one_idle_elsewhere(const std::string& host);
  void slot_freed(const std::string& host);
  void deliver(LeaseHandler done, SessionLease lease);
  void refresh_stats();

  asio::io_context& io_;
  SmtpOptions options_;
  std::shared_ptr<OutboundSmtpHealth> outbound_health_;  // locks itself: read from other threads
  std::shared_ptr<SessionOpener> opener_;
  std::unordered_map<std::string, MxHealth> hosts_;  // every host asked for: the statistics
  ConnectionSlots slots_;
  IdleSessions idle_;
  std::deque<Waiter> waiters_;
  bool shut_down_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;

  mutable std::mutex stats_mutex_;
  std::vector<SmtpProber::MxStats> stats_snapshot_;
};

}  // namespace mailsentry
