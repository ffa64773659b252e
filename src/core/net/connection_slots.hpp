// The per-MX and overall connection limits. A slot is taken when a session
// starts opening and freed once it is closed: a session saying QUIT still
// counts. When the overall limit is reached, an idle session of another
// host may be asked to QUIT to make room (one at a time).
#pragma once

#include <string>
#include <unordered_map>

#include "net/smtp_prober.hpp"

namespace mailsentry {

class ConnectionSlots {
 public:
  enum class Verdict {
    open,                 // a slot is free for this host: take it
    make_room_elsewhere,  // the overall limit is reached: QUIT an idle session of another host
    host_full,            // the host's own limit is reached (an idle session of its own may go)
    wait,                 // a QUIT is under way that will free a slot
  };

  Verdict verdict(const std::string& host, const SmtpOptions& options) const;
  void take(const std::string& host);
  void free(const std::string& host);
  void quit_started() { ++quitting_; }
  void quit_ended() { --quitting_; }
  int sessions(const std::string& host) const;
  int total() const { return total_; }

 private:
  std::unordered_map<std::string, int> per_host_;
  int total_ = 0;
  int quitting_ = 0;
};

}  // namespace mailsentry
