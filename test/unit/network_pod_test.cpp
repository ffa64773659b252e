// The plain-data forms of requests and answers that cross shared memory:
// what goes in comes out, and what does not fit is cut safely.
#include "verdict/network_pod.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace mailsentry {
namespace {

static_assert(std::is_trivially_copyable_v<NetworkRequestPod>);
static_assert(std::is_trivially_copyable_v<NetworkFactsPod>);

TEST(NetworkPod, RequestRoundTrip) {
  NetworkRequest request;
  request.address = "jane@xn--bcher-kva.example";
  request.domain = "xn--bcher-kva.example";
  request.registrable_domain = "xn--bcher-kva.example";
  request.needs_smtputf8 = true;
  request.mx_only = false;
  request.depth = Depth::extended;
  request.smtp.timeouts = {std::chrono::milliseconds(100), std::chrono::milliseconds(200)};
  request.smtp.greylist_retry_delay = std::chrono::milliseconds(1234);

  NetworkRequestPod pod{};
  request_to_pod(request, pod);
  const NetworkRequest back = request_from_pod(pod);
  EXPECT_EQ(back.address, request.address);
  EXPECT_EQ(back.domain, request.domain);
  EXPECT_EQ(back.registrable_domain, request.registrable_domain);
  EXPECT_TRUE(back.needs_smtputf8);
  EXPECT_FALSE(back.mx_only);
  EXPECT_EQ(back.depth, Depth::extended);
  ASSERT_EQ(back.smtp.timeouts.size(), 2u);
  EXPECT_EQ(back.smtp.timeouts[1].count(), 200);
  EXPECT_EQ(back.smtp.greylist_retry_delay.count(), 1234);
}

TEST(NetworkPod, RequestKeepsAtMostTheTimeoutsThatFit) {
  NetworkRequest request;
  request.address = "a@b.example";
  request.smtp.timeouts.assign(kMaxSmtpTimeouts + 3, std::chrono::milliseconds(7));
  NetworkRequestPod pod{};
  request_to_pod(request, pod);
  EXPECT_EQ(request_from_pod(pod).smtp.timeouts.size(), static_cast<std::size_t>(kMaxSmtpTimeouts));
  // A count that went wrong in shared memory never reads past the array.
  pod.timeout_count = 1000;
  EXPECT_EQ(request_from_pod(pod).smtp.timeouts.size(), static_cast<std::size_t>(kMaxSmtpTimeouts));
  pod.timeout_count = -5;
  EXPECT_TRUE(request_from_pod(pod).smtp.timeouts.empty());
}

TEST(NetworkPod, FactsRoundTrip) {
  NetworkFacts facts;
  facts.mx_found = true;
  facts.dead_domain = DeadDomain::none;
  facts.implicit_mx = false;
  facts.mx_records = {"mx1.example.org", "mx2.example.org"};
  facts.mx_provider = "Example Mail";
  facts.smtp = SmtpOutcome::does_not_exist;
  facts.catch_all = false;
  facts.greylisted = true;
  facts.mx_host = "mx1.example.org";
  facts.smtp_code = 550;
  facts.smtp_message = "5.1.1 no such user";
  facts.domain_created_days = 11000;
  facts.domain_age_days = 9500;
  facts.dnsbl_listed = true;
  facts.domain_age_pending = true;
  facts.warnings = {"first", "second"};

  NetworkFactsPod pod{};
  facts_to_pod(facts, pod);
  const NetworkFacts back = facts_from_pod(pod);
  EXPECT_EQ(back.mx_found, std::optional<bool>(true));
  EXPECT_EQ(back.mx_records, facts.mx_records);
  EXPECT_EQ(back.mx_provider, "Example Mail");
  EXPECT_EQ(back.smtp, SmtpOutcome::does_not_exist);
  EXPECT_EQ(back.catch_all, std::optional<bool>(false));
  EXPECT_TRUE(back.greylisted);
  EXPECT_EQ(back.mx_host, "mx1.example.org");
  EXPECT_EQ(back.smtp_code, std::optional<int>(550));
  EXPECT_EQ(back.smtp_message, "5.1.1 no such user");
  EXPECT_EQ(back.domain_created_days, std::optional<int>(11000));
  EXPECT_EQ(back.domain_age_days, std::optional<int>(9500));
  EXPECT_TRUE(back.dnsbl_listed);
  EXPECT_TRUE(back.domain_age_pending);
  EXPECT_FALSE(back.unfinished);
  EXPECT_EQ(back.warnings, facts.warnings);
}

TEST(NetworkPod, FactsWithoutAnswersStayUnknown) {
  NetworkFacts facts;  // nothing checked
  facts.dead_domain = DeadDomain::nxdomain;
  facts.unfinished = true;
  NetworkFactsPod pod{};
  facts_to_pod(facts, pod);
  const NetworkFacts back = facts_from_pod(pod);
  EXPECT_FALSE(back.mx_found.has_value());
  EXPECT_FALSE(back.catch_all.has_value());
  EXPECT_FALSE(back.smtp_code.has_value());
  EXPECT_FALSE(back.domain_created_days.has_value());
  EXPECT_EQ(back.dead_domain, DeadDomain::nxdomain);
  EXPECT_TRUE(back.unfinished);
}

TEST(NetworkPod, WhatDoesNotFitIsCutSafely) {
  NetworkFacts facts;
  for (std::size_t i = 0; i < kMaxMxRecords + 4; ++i)
    facts.mx_records.push_back("mx" + std::to_string(i) + ".example");
  for (int i = 0; i < kMaxWarnings + 3; ++i) facts.warnings.push_back("w" + std::to_string(i));
  // A message longer than its field, ending in a character the cut must not split.
  facts.smtp_message = std::string(255, 'a') + "\xc3\xa9";
  NetworkFactsPod pod{};
  facts_to_pod(facts, pod);
  const NetworkFacts back = facts_from_pod(pod);
  EXPECT_EQ(back.mx_records.size(), kMaxMxRecords);
  EXPECT_EQ(back.mx_records.front(), "mx0.example");
  EXPECT_EQ(back.warnings.size(), static_cast<std::size_t>(kMaxWarnings));
  EXPECT_EQ(back.smtp_message, std::string(255, 'a'));
}

TEST(FixedText, CutsAtCharacterBoundariesAndReplacesInvalidBytes) {
  FixedText<4> text{};
  text.assign("ab\xc3\xa9z");  // "abé" is 4 bytes; "z" does not fit
  EXPECT_EQ(text.view(), "ab\xc3\xa9");
  text.assign("abc\xc3\xa9");  // "é" would need bytes 4 and 5: cut before it
  EXPECT_EQ(text.view(), "abc");
  text.assign(
      "a\xff"
      "b");
  EXPECT_EQ(text.view(), "a?b");
  text.assign_or_null("");
  EXPECT_FALSE(text.present);
  text.assign_or_null("x");
  EXPECT_TRUE(text.present);
}

}  // namespace
}  // namespace mailsentry
