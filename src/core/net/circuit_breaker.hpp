// Per-MX circuit breaker: after enough consecutive timeouts or refusals the
// host is skipped for a cooldown, so that requests fail fast instead of each
// spending the whole timeout schedule on a dead or hostile server. After the
// cooldown requests go through again; one more failure reopens it at once.
#pragma once

#include <chrono>

namespace mailsentry {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  void record_success() { consecutive_failures_ = 0; }
  // Returns true when this failure opened (or reopened) the breaker.
  bool record_failure(Clock::time_point now, int threshold, std::chrono::milliseconds cooldown) {
    ++consecutive_failures_;
    if (threshold <= 0 || consecutive_failures_ < threshold) return false;
    open_until_ = now + cooldown;
    return true;
  }
  bool is_open(Clock::time_point now) const { return now < open_until_; }
  Clock::time_point open_until() const { return open_until_; }
  // An open state known from before (persisted across a restart): open until
  // `until`, and reopened by the next failure after it, as if `threshold`
  // failures had just been counted.
  void restore_open(Clock::time_point until, int threshold) {
    open_until_ = until;
    if (consecutive_failures_ < threshold) consecutive_failures_ = threshold;
  }
  int consecutive_failures() const { return consecutive_failures_; }

 private:
  int consecutive_failures_ = 0;
  Clock::time_point open_until_{};
};

}  // namespace mailsentry
