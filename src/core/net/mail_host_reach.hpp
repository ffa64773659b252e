// How reaching a probe's mail hosts ended: per host over its attempts, then
// over every host of the probe. The verdict may call a domain dead only on
// the definitive outcomes (no address, off limits, refused).
#pragma once

#include <optional>
#include <vector>

namespace mailsentry {

enum class MailHostReach {
  answered,    // some MX host gave an SMTP dialogue (any reply, a refusing greeting too)
  no_address,  // every MX host name has no A/AAAA at all (NXDOMAIN or no data)
  off_limits,  // every MX host had no address or only ones the AddressPolicy refuses (one at least)
  refused,     // every host with an allowed address refused the TCP connection (ECONNREFUSED)
               // or greeted with something that is not SMTP
  no_answer,   // timeouts, DNS failures that may pass, breaker or back-off, or a mix
  port25_blocked,  // outbound port 25 seems blocked here: not tried, or failed while blocked
};

const char* describe(MailHostReach reach);

// One host's outcome over the attempts of a probe. A reply anywhere settles
// it; the same definitive failure twice stays what it was (a refused connect
// retried is still refused); a blocked port 25 explains any failure; any
// other mix may pass.
MailHostReach merge_host_reach(MailHostReach earlier, MailHostReach now);

// The probe's outcome over every host it tried (unset: never tried).
MailHostReach summarise_reach(const std::vector<std::optional<MailHostReach>>& hosts);

}  // namespace mailsentry
