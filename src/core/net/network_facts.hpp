// What the network checks found about an address. Every field is optional:
// an empty optional means "not checked" or "no answer", which the score model
// treats differently from a negative answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsentry {

enum class SmtpOutcome {
  not_attempted,   // skipped: offline check, fail-fast, or policy (anti-probe provider)
  exists,          // 250/251
  does_not_exist,  // 550/551/553 with 5.1.x
  inconclusive,    // a probe was attempted and gave no answer (timeout, 4xx, 5.7.x ...)
};

// The outcome's name as stored in mailsentry.cache ("not_attempted", ...).
inline std::string_view smtp_outcome_name(SmtpOutcome outcome) {
  switch (outcome) {
    case SmtpOutcome::exists:
      return "exists";
    case SmtpOutcome::does_not_exist:
      return "does_not_exist";
    case SmtpOutcome::inconclusive:
      return "inconclusive";
    case SmtpOutcome::not_attempted:
      break;
  }
  return "not_attempted";
}

// The outcome of a name smtp_outcome_name() gives; not_attempted for others.
inline SmtpOutcome smtp_outcome_from_name(std::string_view name) {
  for (SmtpOutcome outcome :
       {SmtpOutcome::exists, SmtpOutcome::does_not_exist, SmtpOutcome::inconclusive})
    if (name == smtp_outcome_name(outcome)) return outcome;
  return SmtpOutcome::not_attempted;
}

// Why mail to the domain cannot be delivered, when DNS or the connection
// proves it. Only findings that cannot pass by waiting: a timeout, SERVFAIL or
// a refused explicit MX is never one of these.
enum class DeadDomain {
  none,
  nxdomain,      // the domain does not exist
  null_mx,       // RFC 7505 "MX 0 .": the domain says it takes no mail
  no_address,    // no MX and no A/AAAA, or every MX host name has no address
  off_limits,    // every mail host address is loopback, private or reserved
  refuses_smtp,  // no MX, and the domain's own address refuses port 25 or is not SMTP
};

// The name stored in mailsentry.cache.dead_domain ("" for none).
inline std::string_view dead_domain_name(DeadDomain dead) {
  switch (dead) {
    case DeadDomain::nxdomain:
      return "nxdomain";
    case DeadDomain::null_mx:
      return "null_mx";
    case DeadDomain::no_address:
      return "no_address";
    case DeadDomain::off_limits:
      return "off_limits";
    case DeadDomain::refuses_smtp:
      return "refuses_smtp";
    case DeadDomain::none:
      break;
  }
  return "";
}

inline DeadDomain dead_domain_from_name(std::string_view name) {
  for (DeadDomain dead : {DeadDomain::nxdomain, DeadDomain::null_mx, DeadDomain::no_address,
                          DeadDomain::off_limits, DeadDomain::refuses_smtp})
    if (name == dead_domain_name(dead)) return dead;
  return DeadDomain::none;
}

// DNS gave a definitive answer (level 'confirmed'); the others are inferred
// from how connections ended.
inline bool dead_domain_from_dns(DeadDomain dead) {
  return dead == DeadDomain::nxdomain || dead == DeadDomain::null_mx ||
         dead == DeadDomain::no_address;
}

struct NetworkFacts {
  // false: DNS proved the domain takes no mail (NXDOMAIN, null MX, no
  // MX/A/AAAA); unset: not checked, or DNS gave no answer.
  std::optional<bool> mx_found;
  DeadDomain dead_domain = DeadDomain::none;
  bool implicit_mx = false;             // no MX record: mail goes to the A/AAAA host
  std::vector<std::string> mx_records;  // preference order
  std::string mx_provider;              // "Google Workspace", ... or ""

  SmtpOutcome smtp = SmtpOutcome::not_attempted;
  bool smtp_skipped_by_policy = false;  // anti-probe provider: level 'estimated', no deduction
  std::optional<bool> catch_all;
  std::optional<int> catch_all_confidence;
  bool greylisted = false;
  std::string mx_host;
  std::optional<int> smtp_code;
  std::string smtp_message;

  std::optional<int> domain_created_days;  // days since 1970-01-01
  std::optional<int> domain_age_days;

  bool dnsbl_listed = false;  // a configured DNS blocklist zone lists the domain
  // The registration date was still being looked up when the verdict was
  // given; the worker writes it to the cache when it comes.
  bool domain_age_pending = false;
  // No facts came back: the verification timed out (mailsentry.verify_timeout)
  // or the worker could not take it. Never stored: nothing was learnt.
  bool unfinished = false;
  std::vector<std::string> warnings;
  std::vector<std::string> smtp_transcript;  // when mailsentry.log_smtp_transcripts is on
};

}  // namespace mailsentry
