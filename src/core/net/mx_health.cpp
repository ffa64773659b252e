#include "net/mx_health.hpp"

#include <algorithm>
#include <limits>

namespace mailsentry {

std::string MxHealth::unavailable_reason(const std::string& host, Clock::time_point now) const {
  if (breaker.is_open(now)) return "circuit breaker open for " + host;
  if (now < backoff_until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(backoff_until - now);
    return "backing off from " + host + " after 421 (" + std::to_string(left.count()) + " ms left)";
  }
  return {};
}

bool MxHealth::record_failure(bool timeout, Clock::time_point now, const SmtpOptions& options) {
  ++(timeout ? timeouts : errors);
  return breaker.record_failure(now, options.breaker_failure_threshold, options.breaker_cooldown);
}

bool MxHealth::restore_breaker(std::chrono::milliseconds remaining, Clock::time_point now,
                               const SmtpOptions& options) {
  if (remaining <= std::chrono::milliseconds::zero()) return false;
  const auto open_for = std::min(remaining, options.breaker_cooldown);
  breaker.restore_open(now + open_for, options.breaker_failure_threshold);
  return true;
}

bool MxHealth::set_queued(std::size_t jobs) {
  const bool emptied_or_started = (queued == 0) != (jobs == 0);
  queued = jobs;
  return emptied_or_started;
}

SmtpProber::MxStats MxHealth::stats(const std::string& host, int sessions_open,
                                    Clock::time_point now,
                                    std::chrono::system_clock::time_point wall_now) const {
  SmtpProber::MxStats stats;
  stats.host = host;
  stats.sessions_open = sessions_open;
  stats.queued = static_cast<int>(std::min<std::size_t>(queued, std::numeric_limits<int>::max()));
  stats.probes = probes;
  stats.timeouts = timeouts;
  stats.errors = errors;
  stats.breaker_open = breaker.is_open(now);
  if (stats.breaker_open)
    stats.breaker_open_until =
        wall_now +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(breaker.open_until() - now);
  return stats;
}

}  // namespace mailsentry
