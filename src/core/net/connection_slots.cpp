#include "net/connection_slots.hpp"

#include <algorithm>

namespace mailsentry {

ConnectionSlots::Verdict ConnectionSlots::verdict(const std::string& host,
                                                  const SmtpOptions& options) const {
  if (sessions(host) >= std::max(1, options.max_connections_per_mx)) return Verdict::host_full;
  if (total_ < std::max(1, options.max_connections_total)) return Verdict::open;
  return quitting_ == 0 ? Verdict::make_room_elsewhere : Verdict::wait;
}

void ConnectionSlots::take(const std::string& host) {
  ++per_host_[host];
  ++total_;
}

void ConnectionSlots::free(const std::string& host) {
  int& sessions = per_host_[host];
  sessions = std::max(0, sessions - 1);
  total_ = std::max(0, total_ - 1);
}

int ConnectionSlots::sessions(const std::string& host) const {
  const auto found = per_host_.find(host);
  return found == per_host_.end() ? 0 : found->second;
}

}  // namespace mailsentry
