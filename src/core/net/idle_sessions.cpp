#include "net/idle_sessions.hpp"

#include <algorithm>

namespace mailsentry {

void IdleSessions::park(const std::string& host, SessionPtr session,
                        std::shared_ptr<asio::steady_timer> timer) {
  hosts_[host].push_back(Parked{std::move(session), std::move(timer)});
}

IdleSessions::SessionPtr IdleSessions::take_newest(const std::string& host, const Fits& fits) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end()) return nullptr;
  std::deque<Parked>& parked = found->second;
  for (auto it = parked.end(); it != parked.begin();) {
    --it;
    if (!fits(*it->session)) continue;
    SessionPtr session = std::move(it->session);
    it->timer->cancel();
    parked.erase(it);
    return session;
  }
  return nullptr;
}

IdleSessions::SessionPtr IdleSessions::take_oldest(const std::string& host) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end() || found->second.empty()) return nullptr;
  Parked oldest = std::move(found->second.front());
  found->second.pop_front();
  oldest.timer->cancel();
  return std::move(oldest.session);
}

std::pair<std::string, IdleSessions::SessionPtr> IdleSessions::take_oldest_elsewhere(
    const std::string& host) {
  const std::string* oldest = nullptr;
  SmtpSession::Clock::time_point oldest_use{};
  for (const auto& [name, parked] : hosts_) {
    if (name == host || parked.empty()) continue;
    const auto last_used = parked.front().session->last_used();
    if (!oldest || last_used < oldest_use) {
      oldest = &name;
      oldest_use = last_used;
    }
  }
  if (!oldest) return {};
  std::string name = *oldest;
  SessionPtr session = take_oldest(name);
  return {std::move(name), std::move(session)};
}

bool IdleSessions::remove(const std::string& host, const SessionPtr& session) {
  const auto found = hosts_.find(host);
  if (found == hosts_.end()) return false;
  std::deque<Parked>& parked = found->second;
  const auto it = std::find_if(parked.begin(), parked.end(),
                               [&](const Parked& entry) { return entry.session == session; });
  if (it == parked.end()) return false;
  parked.erase(it);
  return true;
}

std::vector<std::pair<std::string, IdleSessions::SessionPtr>> IdleSessions::take_all() {
  std::vector<std::pair<std::string, SessionPtr>> all;
  for (auto& [host, parked] : hosts_) {
    for (Parked& entry : parked) {
      entry.timer->cancel();
      all.emplace_back(host, std::move(entry.session));
    }
    parked.clear();
  }
  return all;
}

bool IdleSessions::empty(const std::string& host) const {
  const auto found = hosts_.find(host);
  return found == hosts_.end() || found->second.empty();
}

}  // namespace mailsentry
