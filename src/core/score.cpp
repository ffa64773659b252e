#include "score.hpp"

#include <algorithm>

#include "verification.hpp"

namespace mailsentry {

const std::vector<Weights::Field>& Weights::fields() {
  static const std::vector<Field> kFields = {
      {"mailbox_missing", &Weights::mailbox_missing, "the mail server says the mailbox does not exist"},
      {"role_address", &Weights::role_address, "role address (info@, sales@, ...)"},
      {"no_mx", &Weights::no_mx, "the domain accepts no mail (no MX, null MX, NXDOMAIN)"},
      {"disposable", &Weights::disposable, "disposable mail domain"},
      {"gibberish_min", &Weights::gibberish_min, "gibberish local part, least natural-looking"},
      {"gibberish_max", &Weights::gibberish_max, "gibberish local part, most random-looking"},
      {"smtp_inconclusive", &Weights::smtp_inconclusive, "an SMTP probe was attempted and gave no answer"},
      {"smtp_inconclusive_no_mx", &Weights::smtp_inconclusive_no_mx,
       "extra when the inconclusive probe went to an implicit MX (A/AAAA record)"},
      {"free_plus_alias", &Weights::free_plus_alias, "free provider address with a +tag"},
      {"free_excessive_dots", &Weights::free_excessive_dots, "free provider address with 3+ dots"},
      {"toxic", &Weights::toxic, "domain known for abuse"},
      {"garbled_identifier", &Weights::garbled_identifier, "machine-made identifier as local part"},
      {"spam_trap", &Weights::spam_trap, "spam-trap pattern"},
      {"suspicious_min", &Weights::suspicious_min, "suspicious local part (test@, keyboard walk), mild"},
      {"suspicious_max", &Weights::suspicious_max, "suspicious local part, strong"},
      {"young_domain", &Weights::young_domain, "domain registered 30 days ago or less"},
      {"catch_all_min", &Weights::catch_all_min, "catch-all domain, name-like local part"},
      {"catch_all_max", &Weights::catch_all_max, "catch-all domain, random local part"},
      {"typo_domain_with_mx", &Weights::typo_domain_with_mx,
       "likely domain typo, but the typo domain has mail servers of its own"},
      {"unknown_suffix", &Weights::unknown_suffix,
       "top-level domain not in the Public Suffix List (only when DNS gave no answer)"},
      {"valid_threshold", &Weights::valid_threshold, "lowest score with verdict 'valid'"},
      {"caution_threshold", &Weights::caution_threshold, "lowest score with verdict 'caution'"},
      {"risky_threshold", &Weights::risky_threshold, "lowest score with verdict 'risky'"},
  };
  return kFields;
}

bool Weights::set(std::string_view name, int points) {
  for (const Field& field : fields()) {
    if (field.name == name) {
      this->*field.member = points;
      return true;
    }
  }
  return false;
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid: return "valid";
    case Verdict::caution: return "caution";
    case Verdict::risky: return "risky";
    case Verdict::invalid: return "invalid";
  }
  return "invalid";
}

std::string_view recommendation_for(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid: return "Safe to send";
    case Verdict::caution: return "Send with caution";
    case Verdict::risky: return "High risk - we recommend not sending";
    case Verdict::invalid: return "Do not send";
  }
  return "Do not send";
}

Verdict verdict_for(int score, const Weights& weights) {
  if (score >= weights.valid_threshold) return Verdict::valid;
  if (score >= weights.caution_threshold) return Verdict::caution;
  if (score >= weights.risky_threshold) return Verdict::risky;
  return Verdict::invalid;
}

std::string Deduction::text() const {
  return reason + " (-" + std::to_string(points) + ")";
}

namespace {

// Linear interpolation from `at_zero` (strength 0) to `at_one` (strength 1).
int scaled(int at_zero, int at_one, double strength) {
  strength = std::clamp(strength, 0.0, 1.0);
  return static_cast<int>(at_zero + (at_one - at_zero) * strength + 0.5);
}

// The findings that make an address undeliverable whatever else is known.
bool add_fail_fast(const Verification& v, const Weights& w, std::vector<Deduction>& out) {
  if (!v.address.valid) {
    out.push_back({"invalid syntax: " + v.address.error, 100});
    return true;
  }
  const bool typo_domain_has_mx = v.network.mx_found.value_or(false);
  if (v.typo.domain_typo && !typo_domain_has_mx) {
    out.push_back({"likely typo, did you mean " + v.typo.suggestion, 100});
    return true;
  }
  if (!v.provider.format_violation.empty()) {
    out.push_back({"breaks " + v.provider.provider_name + " address rules: " +
                       v.provider.format_violation,
                   100});
    return true;
  }
  if (v.role.tier == RoleTier::system) {
    out.push_back({"system address (" + v.address.local + "@), never read by a person", 100});
    return true;
  }
  (void)w;
  return false;
}

void add_deductions(const Verification& v, const Weights& w, std::vector<Deduction>& out) {
  const NetworkFacts& net = v.network;
  if (v.typo.domain_typo)
    out.push_back({"likely typo of " + v.typo.suggestion + " (the domain has mail servers)",
                   w.typo_domain_with_mx});
  if (net.smtp == SmtpOutcome::does_not_exist)
    out.push_back({"mailbox does not exist", w.mailbox_missing});
  if (v.role.tier == RoleTier::role)
    out.push_back({"role address (" + v.role.role_type + ")", w.role_address});
  if (net.mx_found == false) out.push_back({"domain accepts no mail", w.no_mx});
  if (v.is_disposable) out.push_back({"disposable domain", w.disposable});
  if (v.gibberish.is_gibberish) {
    const bool pattern = v.gibberish.pattern == "keyboard_sequence" ||
                         v.gibberish.pattern == "repeated_chars";
    // The less natural the local part, the closer to the maximum.
    const double strength = pattern ? 1.0 : 1.0 - v.gibberish.score / 50.0;
    out.push_back({"gibberish local part", scaled(w.gibberish_min, w.gibberish_max, strength)});
  }
  // A catch-all answer is an answer: it costs by the catch-all rule below.
  if (net.smtp == SmtpOutcome::inconclusive && net.catch_all != true) {
    out.push_back({"mail server gave no answer", w.smtp_inconclusive});
    if (net.implicit_mx)
      out.push_back({"no MX record (implicit MX only)", w.smtp_inconclusive_no_mx});
  }
  if (v.provider.is_free && !v.provider.plus_alias.empty())
    out.push_back({"free provider with +tag", w.free_plus_alias});
  if (v.provider.is_free && v.provider.excessive_dots)
    out.push_back({"free provider with 3+ dots", w.free_excessive_dots});
  if (v.abuse.is_toxic || net.dnsbl_listed) out.push_back({"domain known for abuse", w.toxic});
  if (v.abuse.garbled_identifier)
    out.push_back({"machine-made identifier", w.garbled_identifier});
  if (v.trap.is_potential_trap)
    out.push_back({"spam-trap pattern (" + v.trap.trap_type + ")", w.spam_trap});
  if (v.abuse.suspicious_severity > 0 && !v.abuse.abuse_type.empty() &&
      v.abuse.abuse_type != "abuse_domain") {
    out.push_back({"suspicious local part (" + v.abuse.abuse_type + ")",
                   scaled(w.suspicious_min, w.suspicious_max,
                          (v.abuse.suspicious_severity - 1) / 2.0)});
  }
  if (net.domain_age_days && *net.domain_age_days <= 30)
    out.push_back({"domain registered " + std::to_string(*net.domain_age_days) + " days ago",
                   w.young_domain});
  if (net.catch_all == true) {
    // A name-like local part on a catch-all domain is probably a real person.
    const double randomness = 1.0 - v.gibberish.score / 100.0;
    out.push_back({"catch-all domain", scaled(w.catch_all_min, w.catch_all_max, randomness)});
  }
  if (!v.suffix_known && !net.mx_found.has_value())
    out.push_back({"unknown top-level domain", w.unknown_suffix});
}

void collect_warnings(Verification& v) {
  std::string warning;
  auto add = [&warning](const std::string& text) {
    if (text.empty()) return;
    if (!warning.empty()) warning += "; ";
    warning += text;
  };
  for (const auto& text : v.address.warnings) add(text);
  if (v.checks_ran && !v.suffix_known) add("top-level domain not in the Public Suffix List");
  for (const auto& text : v.network.warnings) add(text);
  v.warning = std::move(warning);
}

VerificationLevel level_of(const Verification& v) {
  if (v.offline) return VerificationLevel::estimated;
  if (!v.address.valid) return VerificationLevel::confirmed;  // syntax is certain
  if (v.network.catch_all == true) return VerificationLevel::inferred;
  if (v.network.smtp == SmtpOutcome::exists || v.network.smtp == SmtpOutcome::does_not_exist)
    return VerificationLevel::confirmed;
  return VerificationLevel::estimated;
}

}  // namespace

void assess(Verification& v, const Weights& weights) {
  Assessment result;
  if (add_fail_fast(v, weights, result.deductions)) {
    result.score = 0;
  } else {
    add_deductions(v, weights, result.deductions);
    int score = 100;
    for (const Deduction& d : result.deductions) score -= d.points;
    result.score = std::clamp(score, 0, 100);
  }
  result.verdict = verdict_for(result.score, weights);
  v.assessment = std::move(result);
  v.level = level_of(v);
  collect_warnings(v);
}

}  // namespace mailsentry
