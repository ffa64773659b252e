// Sessions parked between transactions, per MX host, oldest first, each
// with the timer that ends it after the idle timeout. Whatever is taken out
// has its timer cancelled; what to do with the session is the caller's.
#pragma once

#include <asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/smtp_session.hpp"

namespace mailsentry {

class IdleSessions {
 public:
  using SessionPtr = std::shared_ptr<SmtpSession>;
  using Fits = std::function<bool(const SmtpSession&)>;

  void park(const std::string& host, SessionPtr session, std::shared_ptr<asio::steady_timer> timer);
  // The most recently used session of `host` that `fits` (the likeliest to
  // still be open); nullptr when none does.
  SessionPtr take_newest(const std::string& host, const Fits& fits);
  SessionPtr take_oldest(const std::string& host);
  // The host and session least recently used among the other hosts' oldest
  // ones; {"", nullptr} when they have none.
  std::pair<std::string, SessionPtr> take_oldest_elsewhere(const std::string& host);
  // Takes `session` out when it is still parked (its idle timeout expired).
  bool remove(const std::string& host, const SessionPtr& session);
  std::vector<std::pair<std::string, SessionPtr>> take_all();
  bool empty(const std::string& host) const;

 private:
  struct Parked {
    SessionPtr session;
    std::shared_ptr<asio::steady_timer> timer;
  };
  std::unordered_map<std::string, std::deque<Parked>> hosts_;
};

}  // namespace mailsentry
