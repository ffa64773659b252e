// The steps every SQL entry point and the worker share: which addresses need
// the network, what the request carries, and the verdict from the facts.
#include "verdict/verification_steps.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists builtin = Lists::builtin();
  return builtin;
}

TEST(VerificationSteps, AddressesNoNetworkCheckCanChangeNeedNoRequest) {
  Verification v;
  EXPECT_FALSE(start_verification("not an address", Depth::standard, {}, lists(), v));
  EXPECT_FALSE(v.offline);
  EXPECT_FALSE(start_verification("noreply@acme-widgets.com", Depth::standard, {}, lists(), v));
  EXPECT_FALSE(start_verification("jane@[192.0.2.1]", Depth::standard, {}, lists(), v));
  ASSERT_FALSE(v.network.warnings.empty());
  EXPECT_EQ(v.network.warnings.front(), "address literal: no DNS or SMTP check");
}

TEST(VerificationSteps, RequestCarriesTheNormalizedAddressAndItsSettings) {
  Verification v;
  ProbeSettings probe;
  probe.timeouts = {std::chrono::milliseconds(100)};
  const auto request =
      start_verification("Jane.Doe@Mail.Acme-Widgets.co.uk", Depth::extended, probe, lists(), v);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->address, "Jane.Doe@mail.acme-widgets.co.uk");
  EXPECT_EQ(request->domain, "mail.acme-widgets.co.uk");
  // Only a request handed to the network needs its registrable domain.
  EXPECT_EQ(request->registrable_domain, "");
  NetworkRequest completed = *request;
  complete_network_request(completed);
  EXPECT_EQ(completed.registrable_domain, "acme-widgets.co.uk");
  EXPECT_EQ(request->depth, Depth::extended);
  EXPECT_FALSE(request->mx_only);
  ASSERT_EQ(request->smtp.timeouts.size(), 1u);
  EXPECT_TRUE(v.offline);
}

TEST(VerificationSteps, DomainTypoAsksOnlyForMailServers) {
  Verification v;
  const auto request = start_verification("jane@gmial.com", Depth::standard, {}, lists(), v);
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->mx_only);
}

TEST(VerificationSteps, NonAsciiLocalPartNeedsSmtputf8) {
  Verification v;
  const auto request =
      start_verification("j\xc3\xbcrgen@acme-widgets.com", Depth::standard, {}, lists(), v);
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->needs_smtputf8);
}

TEST(VerificationSteps, NoFactsWithAReasonIsAnEstimateThatSaysWhy) {
  Verification v;
  ASSERT_TRUE(start_verification("jane@acme-widgets.com", Depth::standard, {}, lists(), v));
  finish_verification(v, std::nullopt, "network checks did not finish", Weights());
  EXPECT_TRUE(v.network.unfinished);
  EXPECT_EQ(v.level, VerificationLevel::estimated);
  EXPECT_NE(v.warning.find("network checks did not finish"), std::string::npos);
  EXPECT_NE(v.assessment.verdict, Verdict::valid);
}

TEST(VerificationSteps, ConfirmedMailboxIsValid) {
  Verification v;
  ASSERT_TRUE(start_verification("maria.garcia@acme-widgets.com", Depth::standard, {}, lists(), v));
  NetworkFacts facts;
  facts.mx_found = true;
  facts.mx_records = {"mx.acme-widgets.com"};
  facts.smtp = SmtpOutcome::exists;
  facts.catch_all = false;
  finish_verification(v, facts, "", Weights());
  EXPECT_EQ(v.assessment.verdict, Verdict::valid);
  EXPECT_EQ(v.level, VerificationLevel::confirmed);
}

TEST(VerificationSteps, WhichFactsAreInconclusive) {
  NetworkFacts none;
  EXPECT_TRUE(facts_inconclusive(none));  // no DNS answer
  NetworkFacts dead;
  dead.dead_domain = DeadDomain::nxdomain;
  EXPECT_FALSE(facts_inconclusive(dead));
  NetworkFacts timeout;
  timeout.mx_found = true;
  timeout.smtp = SmtpOutcome::inconclusive;
  EXPECT_TRUE(facts_inconclusive(timeout));
  NetworkFacts catch_all = timeout;
  catch_all.catch_all = true;
  EXPECT_FALSE(facts_inconclusive(catch_all));
  NetworkFacts answered;
  answered.mx_found = true;
  answered.smtp = SmtpOutcome::does_not_exist;
  EXPECT_FALSE(facts_inconclusive(answered));
}

TEST(VerificationSteps, DeeperDepthsRankHigher) {
  EXPECT_LT(depth_rank(Depth::quick), depth_rank(Depth::standard));
  EXPECT_LT(depth_rank(Depth::standard), depth_rank(Depth::extended));
}

}  // namespace
}  // namespace mailsentry
