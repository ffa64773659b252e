// Sessions per MX host: opening (resolve, address policy, source address
// rotation, connect), reuse of idle sessions, the per-MX and overall
// connection limits with a FIFO queue of waiting requests, the circuit
// breaker, the back-off after a 421 and the outbound port 25 health (new
// connections held back while port 25 seems blocked). Runs on the io_context
// thread only, except stats() and outbound_state(), which any thread may call.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
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

#include "net/circuit_breaker.hpp"
#include "net/outbound_smtp_health.hpp"
#include "net/smtp_prober.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

enum class LeaseProblem {
  none,
  unavailable,        // breaker open or backing off after 421: warnings say which
  resolution_failed,  // the MX host name has no address
  policy_refused,     // every address is off limits (AddressPolicy)
  session_failed,     // connect, greeting, EHLO or STARTTLS failed: see `open`
  port25_blocked,     // outbound port 25 seems blocked: no new connection for now
  shut_down,
};

struct SessionLease {
  std::shared_ptr<SmtpSession> session;  // ready for a transaction when problem == none
  bool reused = false;
  LeaseProblem problem = LeaseProblem::none;
  OpenResult open;  // why, when session_failed
  // How reaching the host ended this time: answered with a session; else
  // what the problem says about the host (its addresses, its connections).
  MailHostReach reach = MailHostReach::answered;
  std::vector<std::string> warnings;
  std::vector<std::string> transcript;  // of the opening, when transcripts are on
};

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
  struct IdleSession {
    std::shared_ptr<SmtpSession> session;
    std::shared_ptr<asio::steady_timer> timer;
  };
  struct HostState {
    int sessions = 0;  // connecting, busy, idle or quitting: all count against the limits
    std::deque<IdleSession> idle;  // oldest first
    CircuitBreaker breaker;
    Clock::time_point backoff_until{};
    std::uint64_t probes = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t errors = 0;
    std::size_t queued = 0;  // set_queued()
  };

  void pump();
  std::shared_ptr<SmtpSession> take_idle(HostState& state, int recipients_needed);
  bool fits_caps(const SmtpSession& session, int more_recipients) const;
  void open_session(Waiter waiter);
  // A session being opened: its request, the allowed addresses (tried in
  // turn while connections are refused or reset) and what came so far.
  struct Opening {
    Waiter waiter;
    std::vector<asio::ip::address> addresses;
    std::size_t index = 0;
    bool every_connect_refused = true;  // each address tried so far said ECONNREFUSED
    std::vector<std::string> warnings;
    std::vector<std::string> transcript;
  };

  void on_resolved(Waiter waiter, AddressAnswer answer);
  void connect_to(Opening opening);
  void on_opened(Opening opening, const std::shared_ptr<SmtpSession>& session, OpenResult result);
  MailHostReach record_connect(const std::string& host, const OpenResult& result,
                               bool every_connect_refused);
  void fail_opening(Waiter waiter, LeaseProblem problem, MailHostReach reach,
                    std::vector<std::string> warnings);
  std::optional<asio::ip::address> next_source(const asio::ip::address& target);
  SessionConfig session_config(const std::string& host) const;

  void park_idle(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void on_idle_timeout(const std::string& host, const std::weak_ptr<SmtpSession>& session);
  void quit_session(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void close_session(const std::string& host, const std::shared_ptr<SmtpSession>& session);
  void quit_one_idle_elsewhere(const std::string& host);
  void slot_freed(const std::string& host);
  void close_opening_sessions();
  void deliver(LeaseHandler done, SessionLease lease);
  void refresh_stats();

  asio::io_context& io_;
  HostResolver resolve_host_;
  SmtpOptions options_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::unordered_map<std::string, HostState> hosts_;
  std::deque<Waiter> waiters_;
  std::vector<std::weak_ptr<SmtpSession>> opening_;  // closed at shutdown
  int total_sessions_ = 0;
  int quitting_ = 0;
  std::size_t source_index_ = 0;
  bool shut_down_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
  OutboundSmtpHealth outbound_health_;  // locks itself: read from other threads

  mutable std::mutex stats_mutex_;
  std::vector<SmtpProber::MxStats> stats_snapshot_;
};

}  // namespace mailsentry
