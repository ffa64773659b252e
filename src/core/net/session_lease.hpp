// What the SmtpPool hands out for a request: a session ready for a
// transaction, or why there is none.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/mail_host_reach.hpp"
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

}  // namespace mailsentry
