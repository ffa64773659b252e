#include "verdict/verification_record_fill.hpp"

#include <algorithm>

namespace mailsentry {

namespace {

TriState tri(bool value) { return value ? TriState::yes : TriState::no; }

template <typename Optional>
TriState tri_optional(const Optional& value) {
  return value.has_value() ? tri(*value) : TriState::null;
}

}  // namespace

void fill_record(const Verification& v, std::string_view depth, VerificationRecord& out) {
  const ParsedAddress& a = v.address;
  const NetworkFacts& net = v.network;
  const bool ran = v.checks_ran;

  if (a.valid)
    out.normalized.assign(a.normalized());
  else
    out.normalized.set_null();
  out.score = v.assessment.score;
  out.verdict.assign(verdict_name(v.assessment.verdict));
  out.recommendation.assign(recommendation_for(v.assessment.verdict));
  out.verification_level.assign(level_name(v.level));
  out.verification_depth.assign(depth);
  out.warning.assign_or_null(v.warning);
  out.issue_count =
      static_cast<std::uint32_t>(std::min<std::size_t>(v.assessment.deductions.size(), kMaxIssues));
  for (std::uint32_t i = 0; i < out.issue_count; ++i)
    out.issues[i].assign(v.assessment.deductions[i].text());

  out.syntax_valid = tri(a.valid);
  if (ran)
    out.plus_alias.assign_or_null(v.provider.plus_alias);
  else
    out.plus_alias.set_null();
  out.mx_found = tri_optional(net.mx_found);
  out.mx_record_count =
      static_cast<std::uint32_t>(std::min<std::size_t>(net.mx_records.size(), kMaxMxRecords));
  for (std::uint32_t i = 0; i < out.mx_record_count; ++i)
    out.mx_records[i].assign(net.mx_records[i]);
  out.is_disposable = ran ? tri(v.is_disposable) : TriState::null;
  out.is_role_based = ran ? tri(v.role.is_role_based()) : TriState::null;
  out.role_type.assign_or_null(ran ? std::string_view(v.role.role_type) : std::string_view());
  out.is_free = ran ? tri(v.provider.is_free) : TriState::null;
  out.provider_name.assign_or_null(ran ? std::string_view(v.provider.provider_name) : "");
  out.is_business = ran ? tri(v.provider.is_business) : TriState::null;
  out.mx_provider.assign_or_null(net.mx_provider);
  out.has_typo = tri(v.typo.has_typo);
  out.suggestion.assign_or_null(v.typo.suggestion);

  switch (net.smtp) {
    case SmtpOutcome::exists:
      out.smtp_valid = TriState::yes;
      break;
    case SmtpOutcome::does_not_exist:
      out.smtp_valid = TriState::no;
      break;
    default:
      out.smtp_valid = TriState::null;
      break;
  }
  // A catch-all domain accepts every recipient: the answer says nothing.
  if (net.catch_all == true) out.smtp_valid = TriState::null;
  out.catch_all = tri_optional(net.catch_all);
  out.mx_host.assign_or_null(net.mx_host);
  out.greylisted = v.offline ? TriState::null : tri(net.greylisted);
  if (net.catch_all_confidence)
    out.catch_all_confidence.set(*net.catch_all_confidence);
  else
    out.catch_all_confidence.set_null();
  if (net.smtp_code)
    out.smtp_code.set(*net.smtp_code);
  else
    out.smtp_code.set_null();
  out.smtp_message.assign_or_null(net.smtp_message);

  out.is_gibberish = ran ? tri(v.gibberish.is_gibberish) : TriState::null;
  if (ran)
    out.gibberish_score.set(v.gibberish.score);
  else
    out.gibberish_score.set_null();
  out.gibberish_pattern.assign_or_null(ran ? std::string_view(v.gibberish.pattern) : "");

  out.is_potential_trap = ran ? tri(v.trap.is_potential_trap) : TriState::null;
  out.trap_type.assign_or_null(ran ? std::string_view(v.trap.trap_type) : "");
  if (ran)
    out.trap_confidence.set(v.trap.confidence);
  else
    out.trap_confidence.set_null();

  if (net.domain_created_days)
    out.domain_created_days.set(*net.domain_created_days);
  else
    out.domain_created_days.set_null();
  if (net.domain_age_days) {
    out.domain_age_days.set(*net.domain_age_days);
    const int age = *net.domain_age_days;
    out.domain_risk_flag.assign_or_null(age <= 30   ? "newly_registered"
                                        : age <= 90 ? "young_domain"
                                                    : "");
  } else {
    out.domain_age_days.set_null();
    out.domain_risk_flag.set_null();
  }
  out.is_toxic = ran ? tri(v.abuse.is_toxic || net.dnsbl_listed) : TriState::null;
  out.abuse_type.assign_or_null(ran ? std::string_view(v.abuse.abuse_type) : "");
  out.cached = false;
}

}  // namespace mailsentry
