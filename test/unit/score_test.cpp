// The score model: fail-fast findings, stacking deductions, clamping,
// verdict bands, levels, and user weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "verdict/verification.hpp"

namespace mailsentry {
namespace {

// A syntactically valid address with nothing wrong, before any network check.
Verification clean_address() {
  Verification v;
  v.address.valid = true;
  v.address.local = "jane";
  v.address.domain = "acme-widgets.com";
  v.checks_ran = true;
  v.suffix_known = true;
  v.gibberish.score = 90;
  return v;
}

Verification online(Verification v) {
  v.offline = false;
  v.network.mx_found = true;
  return v;
}

int score_of(Verification v, const Weights& w = Weights()) {
  assess(v, w);
  return v.assessment.score;
}

TEST(Score, CleanAddressIsValid) {
  Verification v = clean_address();
  assess(v, Weights());
  EXPECT_EQ(v.assessment.score, 100);
  EXPECT_EQ(v.assessment.verdict, Verdict::valid);
  EXPECT_TRUE(v.assessment.deductions.empty());
  EXPECT_EQ(v.level, VerificationLevel::estimated);
}

TEST(Score, FailFastFindingsScoreZero) {
  Verification bad_syntax;
  bad_syntax.address.error = "no @";
  EXPECT_EQ(score_of(bad_syntax), 0);

  Verification typo = clean_address();
  typo.typo = {true, "jane@gmail.com", true};
  EXPECT_EQ(score_of(typo), 0);

  Verification format = clean_address();
  format.provider.provider_name = "Gmail";
  format.provider.format_violation = "shorter than 6 characters";
  EXPECT_EQ(score_of(format), 0);

  Verification system = clean_address();
  system.role.tier = RoleTier::system;
  system.role.role_type = "system";
  EXPECT_EQ(score_of(system), 0);
  assess(system, Weights());
  ASSERT_EQ(system.assessment.deductions.size(), 1u);
  EXPECT_EQ(system.assessment.deductions[0].points, 100);
  EXPECT_EQ(system.assessment.verdict, Verdict::invalid);
}

TEST(Score, TypoDomainWithMailServersIsOnlyADeduction) {
  Verification v = online(clean_address());
  v.typo = {true, "jane@gmail.com", true};
  EXPECT_EQ(score_of(v), 100 - 15);
}

TEST(Score, SuffixOnlySuggestionCostsNothingByItself) {
  Verification v = clean_address();
  v.typo = {true, "jane@x.com", false};
  EXPECT_EQ(score_of(v), 100);
}

TEST(Score, EachDeductionHasItsWeight) {
  const Weights w;
  Verification missing = online(clean_address());
  missing.network.smtp = SmtpOutcome::does_not_exist;
  EXPECT_EQ(score_of(missing), 100 - w.mailbox_missing);

  Verification role = clean_address();
  role.role.tier = RoleTier::role;
  role.role.role_type = "sales";
  EXPECT_EQ(score_of(role), 100 - w.role_address);

  Verification no_mx = clean_address();
  no_mx.offline = false;
  no_mx.network.mx_found = false;
  EXPECT_EQ(score_of(no_mx), std::max(0, 100 - w.dead_domain));

  Verification disposable = clean_address();
  disposable.is_disposable = true;
  EXPECT_EQ(score_of(disposable), 100 - w.disposable);

  Verification plus = clean_address();
  plus.provider.is_free = true;
  plus.provider.plus_alias = "news";
  EXPECT_EQ(score_of(plus), 100 - w.free_plus_alias);

  Verification dots = clean_address();
  dots.provider.is_free = true;
  dots.provider.excessive_dots = true;
  EXPECT_EQ(score_of(dots), 100 - w.free_excessive_dots);

  Verification toxic = clean_address();
  toxic.abuse.is_toxic = true;
  toxic.abuse.abuse_type = "abuse_domain";
  EXPECT_EQ(score_of(toxic), 100 - w.toxic);

  Verification garbled = clean_address();
  garbled.abuse.garbled_identifier = true;
  EXPECT_EQ(score_of(garbled), 100 - w.garbled_identifier);

  Verification trap = clean_address();
  trap.trap = {true, "honeypot_local_part", 70};
  EXPECT_EQ(score_of(trap), 100 - w.spam_trap);

  Verification young = online(clean_address());
  young.network.domain_age_days = 12;
  EXPECT_EQ(score_of(young), 100 - w.young_domain);
  young.network.domain_age_days = 31;
  EXPECT_EQ(score_of(young), 100);

  Verification unknown_suffix = clean_address();
  unknown_suffix.suffix_known = false;
  EXPECT_EQ(score_of(unknown_suffix), 100 - w.unknown_suffix);
  // Once DNS has answered, the MX result speaks instead of the suffix list.
  EXPECT_EQ(score_of(online(unknown_suffix)), 100);
}

TEST(Score, InconclusiveSmtpOnlyWhenAProbeWasAttempted) {
  const Weights w;
  Verification v = online(clean_address());
  v.network.smtp = SmtpOutcome::inconclusive;
  EXPECT_EQ(score_of(v), 100 - w.smtp_inconclusive);
  v.network.implicit_mx = true;
  EXPECT_EQ(score_of(v), 100 - w.smtp_inconclusive - w.smtp_inconclusive_no_mx);

  Verification skipped = online(clean_address());
  skipped.network.smtp = SmtpOutcome::not_attempted;
  skipped.network.smtp_skipped_by_policy = true;
  EXPECT_EQ(score_of(skipped), 100);
}

TEST(Score, SuspiciousPatternScalesWithSeverity) {
  Verification v = clean_address();
  v.abuse.abuse_type = "test_account";
  v.abuse.suspicious_severity = 1;
  EXPECT_EQ(score_of(v), 100 - 15);
  v.abuse.suspicious_severity = 2;
  EXPECT_EQ(score_of(v), 100 - 23);
  v.abuse.suspicious_severity = 3;
  EXPECT_EQ(score_of(v), 100 - 30);
}

TEST(Score, GibberishScalesFromMinToMax) {
  Verification mild = clean_address();
  mild.gibberish = {true, 50, "random_characters"};
  Verification strong = clean_address();
  strong.gibberish = {true, 0, "random_characters"};
  Verification walk = clean_address();
  walk.gibberish = {true, 40, "keyboard_sequence"};
  EXPECT_EQ(score_of(mild), 100 - 35);
  EXPECT_EQ(score_of(strong), 100 - 70);
  EXPECT_EQ(score_of(walk), 100 - 70);
}

TEST(Score, CatchAllCostsMoreForRandomLocalParts) {
  Verification name_like = online(clean_address());
  name_like.network.catch_all = true;
  name_like.gibberish.score = 100;
  Verification random = name_like;
  random.gibberish.score = 0;
  EXPECT_EQ(score_of(name_like), 100 - 5);
  EXPECT_EQ(score_of(random), 100 - 35);
  // The probe's "inconclusive" on a catch-all domain is not charged twice.
  name_like.network.smtp = SmtpOutcome::inconclusive;
  EXPECT_EQ(score_of(name_like), 100 - 5);
  assess(name_like, Weights());
  EXPECT_EQ(name_like.level, VerificationLevel::inferred);
}

TEST(Score, DeductionsStackAndClampAtZero) {
  Verification v = online(clean_address());
  v.network.smtp = SmtpOutcome::does_not_exist;
  v.role.tier = RoleTier::role;
  v.is_disposable = true;
  assess(v, Weights());
  EXPECT_EQ(v.assessment.score, 0);
  EXPECT_EQ(v.assessment.deductions.size(), 3u);
  EXPECT_EQ(v.assessment.verdict, Verdict::invalid);
}

TEST(Score, VerdictBands) {
  const Weights w;
  EXPECT_EQ(verdict_for(100, w), Verdict::valid);
  EXPECT_EQ(verdict_for(90, w), Verdict::valid);
  EXPECT_EQ(verdict_for(89, w), Verdict::caution);
  EXPECT_EQ(verdict_for(60, w), Verdict::caution);
  EXPECT_EQ(verdict_for(59, w), Verdict::risky);
  EXPECT_EQ(verdict_for(30, w), Verdict::risky);
  EXPECT_EQ(verdict_for(29, w), Verdict::invalid);
  EXPECT_EQ(verdict_for(0, w), Verdict::invalid);
  EXPECT_EQ(recommendation_for(Verdict::valid), "Safe to send");
  EXPECT_EQ(recommendation_for(Verdict::caution), "Send with caution");
  EXPECT_EQ(recommendation_for(Verdict::risky), "High risk - we recommend not sending");
  EXPECT_EQ(recommendation_for(Verdict::invalid), "Do not send");
}

TEST(Score, LevelsFollowTheSmtpAnswer) {
  Verification confirmed = online(clean_address());
  confirmed.network.smtp = SmtpOutcome::exists;
  assess(confirmed, Weights());
  EXPECT_EQ(confirmed.level, VerificationLevel::confirmed);

  Verification estimated = online(clean_address());
  estimated.network.smtp = SmtpOutcome::inconclusive;
  assess(estimated, Weights());
  EXPECT_EQ(estimated.level, VerificationLevel::estimated);

  Verification offline = clean_address();
  offline.network.smtp = SmtpOutcome::exists;  // ignored while offline
  assess(offline, Weights());
  EXPECT_EQ(offline.level, VerificationLevel::estimated);
}

TEST(Score, UserWeightsReplaceDefaults) {
  Weights w;
  ASSERT_TRUE(w.set("role_address", 80));
  EXPECT_FALSE(w.set("no_such_weight", 1));
  Verification role = clean_address();
  role.role.tier = RoleTier::role;
  EXPECT_EQ(score_of(role, w), 20);
  ASSERT_TRUE(w.set("valid_threshold", 95));
  EXPECT_EQ(verdict_for(92, w), Verdict::caution);
}

TEST(Score, IssuesSayWhatCostPoints) {
  Verification v = clean_address();
  v.role.tier = RoleTier::role;
  v.role.role_type = "sales";
  assess(v, Weights());
  ASSERT_EQ(v.assessment.deductions.size(), 1u);
  EXPECT_EQ(v.assessment.deductions[0].text(), "role address (sales) (-45)");
}

TEST(Score, DeadDomainsAreInvalidAndNameTheirFinding) {
  struct Case {
    DeadDomain dead;
    bool mx_found;
    VerificationLevel level;
    const char* issue;
  };
  const Case cases[] = {
      {DeadDomain::nxdomain, false, VerificationLevel::confirmed,
       "domain does not exist (NXDOMAIN) (-100)"},
      {DeadDomain::null_mx, false, VerificationLevel::confirmed,
       "domain accepts no mail (null MX) (-100)"},
      {DeadDomain::no_address, true, VerificationLevel::confirmed,
       "domain has no mail server address (-100)"},
      {DeadDomain::off_limits, true, VerificationLevel::inferred,
       "mail servers only on private or reserved addresses (-100)"},
      {DeadDomain::refuses_smtp, true, VerificationLevel::inferred,
       "the domain's host refuses mail on port 25 (-100)"},
  };
  for (const Case& c : cases) {
    Verification v = online(clean_address());
    v.network.mx_found = c.mx_found;
    v.network.dead_domain = c.dead;
    // The probe that could not connect is not charged as "no answer" too.
    if (c.mx_found) v.network.smtp = SmtpOutcome::inconclusive;
    assess(v, Weights());
    SCOPED_TRACE(c.issue);
    EXPECT_EQ(v.assessment.verdict, Verdict::invalid);
    EXPECT_EQ(v.level, c.level);
    ASSERT_EQ(v.assessment.deductions.size(), 1u);
    EXPECT_EQ(v.assessment.deductions[0].text(), c.issue);
  }
}

TEST(Score, DeadDomainWeightCanBeOverridden) {
  Weights w;
  ASSERT_TRUE(w.set("dead_domain", 40));
  Verification v = online(clean_address());
  v.network.mx_found = false;
  v.network.dead_domain = DeadDomain::nxdomain;
  EXPECT_EQ(score_of(v, w), 60);
  EXPECT_FALSE(w.set("no_mx", 40));  // renamed in 0.2
}

TEST(Score, NeverValidOnNoAnswer) {
  Weights w;
  // DNS gave no answer (timeout, SERVFAIL, an unfinished verification).
  Verification dns = clean_address();
  dns.offline = false;
  assess(dns, w);
  EXPECT_EQ(dns.assessment.score, 100 - w.no_answer);
  EXPECT_EQ(dns.assessment.verdict, Verdict::caution);
  EXPECT_EQ(dns.level, VerificationLevel::estimated);
  EXPECT_EQ(dns.assessment.deductions[0].text(), "no answer from DNS (-30)");
  // Even with the weights switched off, no answer is never 'valid'.
  ASSERT_TRUE(w.set("no_answer", 0));
  ASSERT_TRUE(w.set("smtp_inconclusive", 0));
  assess(dns, w);
  EXPECT_EQ(dns.assessment.verdict, Verdict::caution);
  Verification smtp = online(clean_address());
  smtp.network.smtp = SmtpOutcome::inconclusive;
  assess(smtp, w);
  EXPECT_EQ(smtp.assessment.score, w.valid_threshold - 1);
  EXPECT_EQ(smtp.assessment.verdict, Verdict::caution);
  // Offline is an estimate, not a failure: unchanged.
  Verification offline = clean_address();
  assess(offline, Weights());
  EXPECT_EQ(offline.assessment.verdict, Verdict::valid);
  // A catch-all answer and an anti-probe provider are answers.
  Verification catch_all = online(clean_address());
  catch_all.network.smtp = SmtpOutcome::inconclusive;
  catch_all.network.catch_all = true;
  catch_all.gibberish.score = 100;
  EXPECT_EQ(score_of(catch_all), 95);
}

TEST(Score, NoAnswerNeverMakesAnAddressInvalidByItself) {
  const Weights w;
  // A role address (-45) whose probe got no answer (-30): risky, not invalid.
  Verification v = online(clean_address());
  v.role.tier = RoleTier::role;
  v.role.role_type = "sales";
  v.network.smtp = SmtpOutcome::inconclusive;
  v.network.implicit_mx = true;  // -10 more
  assess(v, w);
  EXPECT_EQ(v.assessment.score, w.risky_threshold);
  EXPECT_EQ(v.assessment.verdict, Verdict::risky);
  EXPECT_EQ(v.assessment.deductions.size(), 3u);
  // Findings of their own still reach 'invalid'.
  v.network.smtp = SmtpOutcome::does_not_exist;
  assess(v, w);
  EXPECT_EQ(v.assessment.verdict, Verdict::invalid);
  Verification heavy = online(clean_address());
  heavy.is_disposable = true;        // -35
  heavy.role.tier = RoleTier::role;  // -45
  heavy.network.smtp = SmtpOutcome::inconclusive;
  EXPECT_EQ(score_of(heavy, w), 20);  // 100 - 80 is below the band already
}

TEST(Score, AddressLiteralsAreCapped) {
  Verification literal = clean_address();
  literal.offline = false;
  literal.address.address_literal = true;
  literal.address.domain = "[192.0.2.1]";
  assess(literal, Weights());
  EXPECT_EQ(literal.assessment.verdict, Verdict::caution);
  literal.literal_off_limits = true;
  assess(literal, Weights());
  EXPECT_EQ(literal.assessment.verdict, Verdict::risky);
}

TEST(Score, ConfirmedMailboxIsNotFailedOnItsLooksAlone) {
  const Weights w;
  Verification v = online(clean_address());
  v.gibberish = {true, 0, "random_characters"};  // -70
  v.abuse.garbled_identifier = true;             // -25
  v.network.smtp = SmtpOutcome::exists;
  v.network.catch_all = false;
  assess(v, w);
  EXPECT_EQ(v.assessment.score, w.caution_threshold);
  EXPECT_EQ(v.assessment.verdict, Verdict::caution);
  EXPECT_EQ(v.assessment.deductions.size(), 2u);  // the issues keep the deductions
  // Not confirmed (catch-all status unknown): no floor.
  v.network.catch_all.reset();
  EXPECT_EQ(score_of(v, w), 5);
  // A trap name is not softened: it lowers the floor by its full weight.
  v.network.catch_all = false;
  v.trap = {true, "honeypot_local_part", 70};
  EXPECT_EQ(score_of(v, w), w.caution_threshold);  // 100 - 20 leaves room above it
  Weights heavy_trap = w;
  ASSERT_TRUE(heavy_trap.set("spam_trap", 50));
  EXPECT_EQ(score_of(v, heavy_trap), 50);
}

TEST(Score, EveryWeightHasAUniqueName) {
  std::set<std::string_view> names;
  for (const auto& field : Weights::fields()) EXPECT_TRUE(names.insert(field.name).second);
  EXPECT_EQ(names.size(), Weights::fields().size());
}

}  // namespace
}  // namespace mailsentry
