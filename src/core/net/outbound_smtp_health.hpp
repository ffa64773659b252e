// Whether outbound SMTP (TCP port 25) works from this server at all. Many
// hosting providers block it; then every MX looks dead, and verdicts must not
// call domains dead for it. Fed with each TCP connect outcome by the SMTP
// pool; "blocked" once connections to several distinct MX hosts in a row fail
// within a short window, cleared by the next successful connection. While
// blocked the pool lets only one new connection through per retry interval.
// Times are parameters (tests use a fake clock). Any thread may call any
// method: a mutex guards the state, which the pool updates on the io thread
// while statistics readers look at it from others.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailsentry {

struct OutboundHealthOptions {
  // Failures to distinct hosts count towards "blocked" only within this window.
  std::chrono::milliseconds failure_window{std::chrono::seconds(60)};
  // While blocked: one new connection attempt per interval, to notice the end.
  std::chrono::milliseconds retry_interval{std::chrono::seconds(60)};
  // How long after a successful connection port 25 counts as known to work.
  std::chrono::milliseconds known_working_for{std::chrono::minutes(10)};
};

// How the TCP connect to an MX host ended (what came after it does not matter).
enum class ConnectOutcome { succeeded, timed_out, refused };

// A snapshot for statistics and the worker's log.
struct OutboundSmtpState {
  bool blocked = false;
  std::uint64_t episodes = 0;  // times the blocked state was entered
  bool known_working = false;  // a connection succeeded within known_working_for
  std::chrono::system_clock::time_point last_success{};  // epoch when never
};

class OutboundSmtpHealth {
 public:
  using Clock = std::chrono::steady_clock;
  // Distinct MX hosts whose connections must fail in a row to say "blocked".
  static constexpr std::size_t kFailingHostsToBlock = 3;

  explicit OutboundSmtpHealth(OutboundHealthOptions options = {}) : options_(options) {}

  void set_options(OutboundHealthOptions options);

  // Returns true when this outcome entered the blocked state.
  bool record(std::string_view host, ConnectOutcome outcome, Clock::time_point now);
  // Whether a new connection may be attempted now: always when not blocked;
  // while blocked, for one caller per retry interval (the call uses it up).
  bool allow_new_connection(Clock::time_point now);

  bool blocked() const;
  bool known_working(Clock::time_point now) const;
  OutboundSmtpState state(Clock::time_point now) const;

 private:
  bool known_working_locked(Clock::time_point now) const;

  mutable std::mutex mutex_;
  OutboundHealthOptions options_;
  // The failures since the last success, one entry per host (its latest).
  std::vector<std::pair<std::string, Clock::time_point>> failing_hosts_;
  bool blocked_ = false;
  std::uint64_t episodes_ = 0;
  Clock::time_point last_attempt_while_blocked_{};
  bool ever_succeeded_ = false;
  Clock::time_point last_success_{};
};

}  // namespace mailsentry
