#include "net/outbound_smtp_health.hpp"

#include <algorithm>

namespace mailsentry {

void OutboundSmtpHealth::set_options(OutboundHealthOptions options) {
  std::lock_guard<std::mutex> lock(mutex_);
  options_ = options;
}

bool OutboundSmtpHealth::record(std::string_view host, ConnectOutcome outcome,
                                Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (outcome == ConnectOutcome::succeeded) {
    blocked_ = false;
    failing_hosts_.clear();
    ever_succeeded_ = true;
    last_success_ = std::max(last_success_, now);
    return false;
  }
  if (blocked_) return false;  // already counted as an episode
  const Clock::time_point oldest = now - options_.failure_window;
  failing_hosts_.erase(std::remove_if(failing_hosts_.begin(), failing_hosts_.end(),
                                      [&](const auto& entry) { return entry.second < oldest; }),
                       failing_hosts_.end());
  const auto same_host = std::find_if(failing_hosts_.begin(), failing_hosts_.end(),
                                      [&](const auto& entry) { return entry.first == host; });
  if (same_host != failing_hosts_.end()) {
    same_host->second = std::max(same_host->second, now);
  } else {
    failing_hosts_.emplace_back(std::string(host), now);
  }
  if (failing_hosts_.size() < kFailingHostsToBlock) return false;
  blocked_ = true;
  ++episodes_;
  failing_hosts_.clear();
  // The failure that tipped it was the latest attempt: the next one waits.
  last_attempt_while_blocked_ = now;
  return true;
}

bool OutboundSmtpHealth::allow_new_connection(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!blocked_) return true;
  if (now - last_attempt_while_blocked_ < options_.retry_interval) return false;
  last_attempt_while_blocked_ = now;
  return true;
}

bool OutboundSmtpHealth::blocked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return blocked_;
}

bool OutboundSmtpHealth::known_working_locked(Clock::time_point now) const {
  return ever_succeeded_ && now - last_success_ <= options_.known_working_for;
}

bool OutboundSmtpHealth::known_working(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return known_working_locked(now);
}

OutboundSmtpState OutboundSmtpHealth::state(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  OutboundSmtpState state;
  state.blocked = blocked_;
  state.episodes = episodes_;
  state.known_working = known_working_locked(now);
  if (ever_succeeded_) {
    // Wall clock, so that it can be shown and compared with other times.
    state.last_success =
        std::chrono::system_clock::now() -
        std::chrono::duration_cast<std::chrono::system_clock::duration>(now - last_success_);
  }
  return state;
}

}  // namespace mailsentry
