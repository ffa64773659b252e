// The probe job on its own: preparation from the request, host choice and
// attempts, its answer, the extended-depth retry and the result it hands back.
#include "net/probe_job.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probe_parts_fixture.hpp"

namespace mailsentry {
namespace {

using namespace probe_parts;

TEST(ProbeJobNames, LowerHostAndDomain) {
  EXPECT_EQ(lower_host("MX.Example.TEST.."), "mx.example.test");
  ProbeRequest request;
  request.recipient = "bob@Example.Test.";
  EXPECT_EQ(domain_of(request), "example.test");
  request.domain = "Other.Test";
  EXPECT_EQ(domain_of(request), "other.test");
  request.domain.clear();
  request.recipient = "no-at-sign";
  EXPECT_EQ(domain_of(request), "");
}

TEST(ProbeJobNames, ScheduleText) { EXPECT_EQ(schedule_text({1500ms, 2500ms}), "1500/2500 ms"); }

TEST(ProbeJobNames, RcptOutcome) {
  EXPECT_EQ(rcpt_outcome(RcptVerdict::exists, std::nullopt), SmtpOutcome::exists);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::exists, false), SmtpOutcome::exists);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::exists, true), SmtpOutcome::inconclusive);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::mailbox_full, true), SmtpOutcome::exists);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::does_not_exist, true), SmtpOutcome::does_not_exist);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::greylisted, std::nullopt), SmtpOutcome::inconclusive);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::policy_refusal, std::nullopt), SmtpOutcome::inconclusive);
  EXPECT_EQ(rcpt_outcome(RcptVerdict::temporary, std::nullopt), SmtpOutcome::inconclusive);
}

TEST(ProbeJob, PrepareKeepsNamedHostsAndPositiveTimeouts) {
  ProbeJob job;
  job.request.recipient = "bob@A.test";
  job.request.mx = {MxHost{10, "MX1.a.test."}, MxHost{20, ""}, MxHost{30, "mx2.a.test"}};
  job.request.settings.timeouts = {0ms, 700ms, -5ms};
  EXPECT_EQ(job.prepare(), "");
  EXPECT_EQ(job.hosts, (std::vector<std::string>{"mx1.a.test", "mx2.a.test"}));
  EXPECT_EQ(job.timeouts, (std::vector<std::chrono::milliseconds>{700ms}));
  EXPECT_EQ(job.domain, "a.test");
  EXPECT_EQ(job.host_reach.size(), 2u);
}

TEST(ProbeJob, PrepareFallsBackToTheDefaultSchedule) {
  ProbeJob job;
  job.request.recipient = "bob@a.test";
  job.request.mx = {MxHost{10, "mx.a.test"}};
  job.request.settings.timeouts.clear();
  EXPECT_EQ(job.prepare(), "");
  EXPECT_EQ(job.timeouts, ProbeSettings{}.timeouts);
}

TEST(ProbeJob, PrepareRefusesNothingToProbeAndLineBreaks) {
  ProbeJob empty;
  empty.request.recipient = "bob@a.test";
  EXPECT_EQ(empty.prepare(), "nothing to probe: no MX host or no recipient");
  ProbeJob smuggler;
  smuggler.request.recipient = "bob@a.test\r\nDATA";
  smuggler.request.mx = {MxHost{10, "mx.a.test"}};
  EXPECT_EQ(smuggler.prepare(), "refusing to probe an address containing a line break");
  EXPECT_EQ(smuggler.domain, "");  // never joined its domain
}

TEST(ProbeJob, PickHostSkipsUnavailableHostsForGood) {
  JobPtr probe = job("bob@a.test", {"mx1.a.test", "mx2.a.test", "mx3.a.test"});
  int asked = 0;
  const auto reason = [&](const std::string& host) {
    ++asked;
    return host == "mx1.a.test" ? "circuit breaker open for " + host : std::string();
  };
  EXPECT_EQ(probe->pick_host(reason), 1u);
  EXPECT_TRUE(probe->host_unusable[0]);
  EXPECT_EQ(probe->host_reach[0], MailHostReach::no_answer);
  EXPECT_EQ(probe->result.warnings,
            std::vector<std::string>{"circuit breaker open for mx1.a.test"});
  probe->host_index = 1;
  probe->advance_attempt();  // the next MX first
  EXPECT_EQ(probe->attempt, 1u);
  EXPECT_EQ(probe->pick_host(reason), 2u);
  probe->host_index = 2;
  probe->advance_attempt();
  asked = 0;
  EXPECT_EQ(probe->pick_host(reason), 1u);  // wraps around, mx1 not asked again
  EXPECT_EQ(asked, 1);
}

TEST(ProbeJob, PickHostNoneWhenEveryHostIsUnavailable) {
  JobPtr probe = job("bob@a.test", {"mx1.a.test", "mx2.a.test"});
  EXPECT_FALSE(probe->pick_host([](const std::string& host) { return "down: " + host; }));
  EXPECT_EQ(probe->result.warnings.size(), 2u);
}

TEST(ProbeJob, StepTimeoutFollowsTheScheduleAndAttemptsRunOut) {
  JobPtr probe = job("bob@a.test");
  probe->timeouts = {100ms, 200ms};
  EXPECT_EQ(probe->step_timeout(), 100ms);
  probe->advance_attempt();
  EXPECT_EQ(probe->step_timeout(), 200ms);
  EXPECT_TRUE(probe->attempts_left());
  probe->advance_attempt();
  EXPECT_FALSE(probe->attempts_left());
  EXPECT_EQ(probe->step_timeout(), 200ms);  // the last one stays
  EXPECT_EQ(probe->exhausted_warning(),
            "timeout: no definitive answer after 2 attempts (100/200 ms)");
}

TEST(ProbeJob, WarningsAreNotRepeated) {
  JobPtr probe = job("bob@a.test");
  probe->warn("one");
  probe->warn("one");
  probe->warn("two");
  EXPECT_EQ(probe->result.warnings, (std::vector<std::string>{"one", "two"}));
}

TEST(ProbeJob, AcceptFillsTheResultFromTheReply) {
  JobPtr probe = job("bob@a.test");
  probe->accept(reply(452, "4.2.2", "mailbox full"));
  EXPECT_EQ(probe->result.mx_host, "mx.a.test");
  EXPECT_EQ(probe->result.code, 452);
  EXPECT_EQ(probe->result.enhanced_code, "4.2.2");
  EXPECT_EQ(probe->result.message, "mailbox full");
  EXPECT_TRUE(probe->answer);

  JobPtr greylisted = job("carol@a.test");
  greylisted->accept(reply(450, "4.7.1", "greylisted, try again later"));
  EXPECT_TRUE(greylisted->result.greylisted);

  JobPtr refused = job("dave@a.test");
  refused->accept(reply(550, "5.7.1", "access denied"));
  EXPECT_EQ(refused->result.warnings, std::vector<std::string>{"mx.a.test: refused by policy"});
}

TEST(ProbeJob, DepthRetryOnlyWhenExtendedAndOnce) {
  JobPtr probe = job("bob@a.test");
  EXPECT_FALSE(probe->wants_depth_retry(RcptVerdict::greylisted));
  probe->request.settings.extended = true;
  probe->request.settings.greylist_retry_delay = 1234ms;
  EXPECT_TRUE(probe->wants_depth_retry(RcptVerdict::greylisted));
  EXPECT_FALSE(probe->wants_depth_retry(RcptVerdict::exists));
  probe->catch_all_seen_now = true;
  EXPECT_TRUE(probe->wants_depth_retry(RcptVerdict::exists));

  probe->attempt = 2;
  probe->probe_requests = 2;
  probe->stale_retry_used = true;
  EXPECT_EQ(probe->begin_depth_retry(RcptVerdict::exists), 1234ms);
  EXPECT_EQ(probe->result.warnings,
            std::vector<std::string>{"catch-all answer by mx.a.test; probed again after 1234 ms"});
  EXPECT_TRUE(probe->awaiting_catch_all);  // the domain's probe is repeated too
  EXPECT_TRUE(probe->distrust_memory);
  EXPECT_FALSE(probe->catch_all_seen_now);
  EXPECT_EQ(probe->attempt, 0u);
  EXPECT_EQ(probe->probe_requests, 0);
  EXPECT_FALSE(probe->stale_retry_used);
  EXPECT_EQ(probe->next_host, probe->host_index);  // the same server
  EXPECT_FALSE(probe->wants_depth_retry(RcptVerdict::greylisted));
}

TEST(ProbeJob, DepthRetryAfterGreylistingAsksForTheUnknownCatchAllStatus) {
  JobPtr probe = job("bob@a.test");
  probe->request.settings.extended = true;
  probe->begin_depth_retry(RcptVerdict::greylisted);
  EXPECT_TRUE(probe->awaiting_catch_all);
  EXPECT_FALSE(probe->distrust_memory);
  EXPECT_NE(probe->result.warnings.front().find("greylisted by mx.a.test"), std::string::npos);

  JobPtr known = job("carol@a.test");
  known->result.catch_all = false;
  known->begin_depth_retry(RcptVerdict::greylisted);
  EXPECT_FALSE(known->awaiting_catch_all);
}

TEST(ProbeJob, SettledResultHasAnOutcomeAndAReach) {
  JobPtr unanswered = job("bob@a.test", {"mx1.a.test", "mx2.a.test"});
  unanswered->note_reach(0, MailHostReach::refused);
  unanswered->note_reach(1, MailHostReach::refused);
  unanswered->settle_result(true);
  EXPECT_EQ(unanswered->result.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(unanswered->result.reach, MailHostReach::refused);
  EXPECT_TRUE(unanswered->result.port25_known_working);

  JobPtr answered = job("carol@a.test");
  answered->note_reach(MailHostReach::no_answer);
  answered->accept(reply(250));
  answered->result.outcome = SmtpOutcome::exists;
  answered->settle_result(false);
  EXPECT_EQ(answered->result.outcome, SmtpOutcome::exists);
  EXPECT_EQ(answered->result.reach, MailHostReach::answered);
}

}  // namespace
}  // namespace mailsentry
