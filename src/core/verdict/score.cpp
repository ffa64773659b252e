#include "verdict/score.hpp"

#include <algorithm>

#include "verdict/verification.hpp"

namespace mailsentry {

const std::vector<Weights::Field>& Weights::fields() {
  static const std::vector<Field> kFields = {
      {"mailbox_missing", &Weights::mailbox_missing,
       "the mail server says the mailbox does not exist"},
      {"role_address", &Weights::role_address, "role address (info@, sales@, ...)"},
      {"dead_domain", &Weights::dead_domain,
       "the domain takes no mail: NXDOMAIN, null MX, no mail server address, or its only "
       "host refuses port 25"},
      {"no_answer", &Weights::no_answer,
       "the MX lookup gave no answer (SERVFAIL, timeout), or the network checks did not finish"},
      {"disposable", &Weights::disposable, "disposable mail domain"},
      {"gibberish_min", &Weights::gibberish_min, "gibberish local part, least natural-looking"},
      {"gibberish_max", &Weights::gibberish_max, "gibberish local part, most random-looking"},
      {"smtp_inconclusive", &Weights::smtp_inconclusive,
       "an SMTP probe was attempted and gave no answer"},
      {"smtp_inconclusive_no_mx", &Weights::smtp_inconclusive_no_mx,
       "extra when the inconclusive probe went to an implicit MX (A/AAAA record)"},
      {"free_plus_alias", &Weights::free_plus_alias, "free provider address with a +tag"},
      {"free_excessive_dots", &Weights::free_excessive_dots, "free provider address with 3+ dots"},
      {"toxic", &Weights::toxic, "domain known for abuse"},
      {"garbled_identifier", &Weights::garbled_identifier, "machine-made identifier as local part"},
      {"spam_trap", &Weights::spam_trap, "spam-trap pattern"},
      {"suspicious_min", &Weights::suspicious_min,
       "suspicious local part (test@, keyboard walk), mild"},
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
    case Verdict::valid:
      return "valid";
    case Verdict::caution:
      return "caution";
    case Verdict::risky:
      return "risky";
    case Verdict::invalid:
      return "invalid";
  }
  return "invalid";
}

std::string_view recommendation_for(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid:
      return "Safe to send";
    case Verdict::caution:
      return "Send with caution";
    case Verdict::risky:
      return "High risk - we recommend not sending";
    case Verdict::invalid:
      return "Do not send";
  }
  return "Do not send";
}

Verdict verdict_for(int score, const Weights& weights) {
  if (score >= weights.valid_threshold) return Verdict::valid;
  if (score >= weights.caution_threshold) return Verdict::caution;
  if (score >= weights.risky_threshold) return Verdict::risky;
  return Verdict::invalid;
}

std::string Deduction::text() const { return reason + " (-" + std::to_string(points) + ")"; }

namespace {

// The DNS or connection finding that makes the domain undeliverable, if any.
const char* dead_domain_finding(const NetworkFacts& net) {
  switch (net.dead_domain) {
    case DeadDomain::nxdomain:
      return "domain does not exist (NXDOMAIN)";
    case DeadDomain::null_mx:
      return "domain accepts no mail (null MX)";
    case DeadDomain::no_address:
      return "domain has no mail server address";
    case DeadDomain::off_limits:
      return "mail servers only on private or reserved addresses";
    case DeadDomain::refuses_smtp:
      return "the domain's host refuses mail on port 25";
    case DeadDomain::none:
      break;
  }
  // Cached before the kind was recorded: DNS said no mail all the same.
  return net.mx_found == false ? "domain accepts no mail" : nullptr;
}

bool domain_dead(const NetworkFacts& net) { return dead_domain_finding(net) != nullptr; }

// The network checks ran (or were meant to) and DNS gave no answer: a
// timeout, SERVFAIL, a resolver that cannot see the Internet, or a
// verification the worker could not finish.
bool dns_unanswered(const Verification& v) {
  return !v.offline && v.checks_ran && !v.address.address_literal && !v.network.mx_found &&
         !domain_dead(v.network);
}

// An SMTP probe was attempted and gave no answer. A catch-all answer is an
// answer: it costs by the catch-all rule. A dead domain names its own finding.
bool smtp_unanswered(const Verification& v) {
  return v.network.smtp == SmtpOutcome::inconclusive && v.network.catch_all != true &&
         !domain_dead(v.network);
}

// The highest score the verdict may have whatever the deductions say.
int score_cap(const Verification& v, const Weights& w) {
  int cap = 100;
  // Never 'valid' on no answer.
  if (dns_unanswered(v) || smtp_unanswered(v)) cap = std::min(cap, w.valid_threshold - 1);
  if (v.address.address_literal) {
    cap = std::min(cap, w.valid_threshold - 1);
    if (v.literal_off_limits) cap = std::min(cap, w.caution_threshold - 1);
  }
  return std::max(cap, 0);
}

// The score without the deductions of one kind: they may lower the score to
// `band` at most, the others still count in full.
int floor_without(Deduction::Kind kind, int band, const std::vector<Deduction>& deductions) {
  int without = 100;
  for (const Deduction& d : deductions)
    if (d.kind != kind) without -= d.points;
  return std::min(band, without);
}

// A mailbox the server confirmed (250, domain not catch-all) exists: how its
// name looks alone cannot push it below 'caution'. A check that got no
// answer cannot make an address 'invalid' by itself.
int score_floor(const Verification& v, const Weights& w, const std::vector<Deduction>& deductions) {
  int floor = floor_without(Deduction::Kind::no_answer, w.risky_threshold, deductions);
  if (v.network.smtp == SmtpOutcome::exists && v.network.catch_all == false)
    floor = std::max(floor, floor_without(Deduction::Kind::local_part_heuristic,
                                          w.caution_threshold, deductions));
  return floor;
}

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
    out.push_back(
        {"breaks " + v.provider.provider_name + " address rules: " + v.provider.format_violation,
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
  if (const char* finding = dead_domain_finding(net)) out.push_back({finding, w.dead_domain});
  if (dns_unanswered(v))
    out.push_back({v.network.unfinished ? "network checks did not finish" : "no answer from DNS",
                   w.no_answer, Deduction::Kind::no_answer});
  if (v.is_disposable) out.push_back({"disposable domain", w.disposable});
  if (v.gibberish.is_gibberish) {
    const bool pattern =
        v.gibberish.pattern == "keyboard_sequence" || v.gibberish.pattern == "repeated_chars";
    // The less natural the local part, the closer to the maximum.
    const double strength = pattern ? 1.0 : 1.0 - v.gibberish.score / 50.0;
    out.push_back({"gibberish local part", scaled(w.gibberish_min, w.gibberish_max, strength),
                   Deduction::Kind::local_part_heuristic});
  }
  // A catch-all answer is an answer: it costs by the catch-all rule below.
  if (smtp_unanswered(v)) {
    out.push_back({"mail server gave no answer", w.smtp_inconclusive, Deduction::Kind::no_answer});
    if (net.implicit_mx)
      out.push_back({"no MX record (implicit MX only)", w.smtp_inconclusive_no_mx,
                     Deduction::Kind::no_answer});
  }
  if (v.provider.is_free && !v.provider.plus_alias.empty())
    out.push_back({"free provider with +tag", w.free_plus_alias});
  if (v.provider.is_free && v.provider.excessive_dots)
    out.push_back({"free provider with 3+ dots", w.free_excessive_dots});
  if (v.abuse.is_toxic || net.dnsbl_listed) out.push_back({"domain known for abuse", w.toxic});
  if (v.abuse.garbled_identifier)
    out.push_back(
        {"machine-made identifier", w.garbled_identifier, Deduction::Kind::local_part_heuristic});
  if (v.trap.is_potential_trap)
    out.push_back({"spam-trap pattern (" + v.trap.trap_type + ")", w.spam_trap});
  if (v.abuse.suspicious_severity > 0 && !v.abuse.abuse_type.empty() &&
      v.abuse.abuse_type != "abuse_domain") {
    // Keyboard walks and machine-made names are how the name looks; a test
    // account is what it is called (like a trap), and stays a full finding.
    const bool heuristic =
        v.abuse.abuse_type == "keyboard_walk" || v.abuse.abuse_type == "bot_generated";
    out.push_back(
        {"suspicious local part (" + v.abuse.abuse_type + ")",
         scaled(w.suspicious_min, w.suspicious_max, (v.abuse.suspicious_severity - 1) / 2.0),
         heuristic ? Deduction::Kind::local_part_heuristic : Deduction::Kind::finding});
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
  if (domain_dead(v.network)) {
    const DeadDomain dead = v.network.dead_domain;
    return dead == DeadDomain::none || dead_domain_from_dns(dead) ? VerificationLevel::confirmed
                                                                  : VerificationLevel::inferred;
  }
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
    score = std::max(score, score_floor(v, weights, result.deductions));
    result.score = std::clamp(score, 0, score_cap(v, weights));
  }
  result.verdict = verdict_for(result.score, weights);
  v.assessment = std::move(result);
  v.level = level_of(v);
  collect_warnings(v);
}

}  // namespace mailsentry
