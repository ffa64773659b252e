// One MX host's health as the SMTP pool sees it: its circuit breaker, the
// back-off after a 421 and the counters of the MX statistics. Times are
// parameters (tests pass their own).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/circuit_breaker.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

struct MxHealth {
  using Clock = std::chrono::steady_clock;

  CircuitBreaker breaker;
  Clock::time_point backoff_until{};
  std::uint64_t probes = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t errors = 0;
  std::size_t queued = 0;  // probes waiting for a session in the prober

  // "" when requests may go to `host`; otherwise the warning for the result.
  std::string unavailable_reason(const std::string& host, Clock::time_point now) const;
  // Counts a timeout or an error; true when it opened the breaker.
  bool record_failure(bool timeout, Clock::time_point now, const SmtpOptions& options);
  void back_off(Clock::time_point now, const SmtpOptions& options) {
    backoff_until = now + options.backoff_after_421;
  }
  // An open breaker learnt before, never longer than a cooldown of the
  // current settings. False when nothing was left of it.
  bool restore_breaker(std::chrono::milliseconds remaining, Clock::time_point now,
                       const SmtpOptions& options);
  // True when the queue emptied or started (the statistics should show it).
  bool set_queued(std::size_t jobs);
  // `wall_now`: the wall clock at `now`, for when the open breaker closes.
  SmtpProber::MxStats stats(const std::string& host, int sessions_open, Clock::time_point now,
                            std::chrono::system_clock::time_point wall_now) const;
};

}  // namespace mailsentry
