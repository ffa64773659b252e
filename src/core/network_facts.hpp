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
  not_attempted,  // skipped: offline check, fail-fast, or policy (anti-probe provider)
  exists,         // 250/251
  does_not_exist, // 550/551/553 with 5.1.x
  inconclusive,   // a probe was attempted and gave no answer (timeout, 4xx, 5.7.x ...)
};

// The outcome's name as stored in mailsentry.cache ("not_attempted", ...).
inline std::string_view smtp_outcome_name(SmtpOutcome outcome) {
  switch (outcome) {
    case SmtpOutcome::exists: return "exists";
    case SmtpOutcome::does_not_exist: return "does_not_exist";
    case SmtpOutcome::inconclusive: return "inconclusive";
    case SmtpOutcome::not_attempted: break;
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

struct NetworkFacts {
  std::optional<bool> mx_found;         // false: NXDOMAIN, null MX, or no MX/A/AAAA
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
  std::vector<std::string> warnings;
  std::vector<std::string> smtp_transcript;  // when mailsentry.log_smtp_transcripts is on
};

}  // namespace mailsentry
