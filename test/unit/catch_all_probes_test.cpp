// Catch-all probing per domain on its own: the remembered status, the probe
// address, one probe at a time, parked jobs and what an answer means for them.
#include "net/catch_all_probes.hpp"

#include <gtest/gtest.h>

#include <string>

#include "probe_parts_fixture.hpp"

namespace mailsentry {
namespace {

using namespace probe_parts;

TEST(CatchAllProbes, JoinWantsAProbeUntilAnAnswerIsRemembered) {
  CatchAllProbes probes(60s, 1);
  JobPtr first = job("bob@a.test");
  probes.join(*first);
  EXPECT_TRUE(first->awaiting_catch_all);
  EXPECT_FALSE(first->result.catch_all);

  probes.remember("A.Test.", true, 60s);  // as restored after a restart
  JobPtr second = job("carol@a.test");
  probes.join(*second);
  EXPECT_FALSE(second->awaiting_catch_all);
  EXPECT_EQ(second->result.catch_all, true);

  probes.refresh(*first);  // the earlier job learns it too
  EXPECT_FALSE(first->awaiting_catch_all);
  EXPECT_EQ(first->result.catch_all, true);
}

TEST(CatchAllProbes, RefreshIgnoresTheMemoryWhenAFreshProbeIsWanted) {
  CatchAllProbes probes(60s, 1);
  probes.remember("a.test", false, 60s);
  JobPtr retried = job("bob@a.test");
  retried->awaiting_catch_all = true;
  retried->distrust_memory = true;
  probes.refresh(*retried);
  EXPECT_TRUE(retried->awaiting_catch_all);
}

TEST(CatchAllProbes, OneRandomAddressPerDomainReusedEachTime) {
  CatchAllProbes probes(60s, 7);
  EXPECT_FALSE(probes.probe_in_flight("a.test"));
  const std::string address = probes.start_probe("a.test");
  EXPECT_TRUE(probes.probe_in_flight("a.test"));
  EXPECT_EQ(address.size(), CatchAllProbes::kLocalPartLength + std::string("@a.test").size());
  EXPECT_EQ(address.substr(CatchAllProbes::kLocalPartLength), "@a.test");
  EXPECT_EQ(address.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789"),
            CatchAllProbes::kLocalPartLength);
  probes.record("a.test", nullptr);
  EXPECT_FALSE(probes.probe_in_flight("a.test"));
  JobPtr holder = job("bob@a.test");  // keeps the domain's state alive
  probes.join(*holder);
  EXPECT_EQ(probes.start_probe("a.test"), address);  // greylisting servers remember it
  EXPECT_NE(probes.start_probe("b.test"), address);
}

TEST(CatchAllProbes, RecordReadsTheReplyAndRemembersConclusiveOnes) {
  CatchAllProbes probes(60s, 1);
  const SmtpReply accepted = reply(250);
  ProbeAnswer answer = probes.record("a.test", &accepted);
  EXPECT_TRUE(answer.replied);
  EXPECT_EQ(answer.catch_all, true);

  const SmtpReply unknown = reply(550, "5.1.1", "no such user");
  answer = probes.record("b.test", &unknown);
  EXPECT_EQ(answer.catch_all, false);

  const SmtpReply deferred = reply(451, "4.3.0", "try later");
  answer = probes.record("c.test", &deferred);
  EXPECT_TRUE(answer.replied);
  EXPECT_FALSE(answer.catch_all);

  answer = probes.record("d.test", nullptr);
  EXPECT_FALSE(answer.replied);

  for (const char* domain : {"a.test", "b.test", "c.test"}) {
    JobPtr later = job(std::string("x@") + domain);
    probes.join(*later);
    EXPECT_EQ(later->awaiting_catch_all, std::string(domain) == "c.test") << domain;
  }
}

TEST(CatchAllProbes, ParkedJobsAreHandedBackOnce) {
  CatchAllProbes probes(60s, 1);
  JobPtr first = job("bob@a.test");
  JobPtr second = job("carol@a.test");
  probes.join(*first);
  probes.join(*second);
  probes.park(first);
  probes.park(second);
  EXPECT_EQ(probes.take_parked("a.test"), (std::vector<JobPtr>{first, second}));
  EXPECT_TRUE(probes.take_parked("a.test").empty());
  EXPECT_TRUE(probes.take_parked("unknown.test").empty());
}

TEST(CatchAllProbes, DomainStateLastsAsLongAsItsJobsAndProbes) {
  CatchAllProbes probes(60s, 1);
  JobPtr probe = job("bob@a.test");
  probes.join(*probe);
  probes.start_probe("a.test");
  EXPECT_EQ(probes.domains(), 1u);
  probes.leave(*probe);
  EXPECT_EQ(probes.domains(), 1u);  // its probe is still in flight
  probes.record("a.test", nullptr);
  probes.forget_if_idle("a.test");
  EXPECT_EQ(probes.domains(), 0u);
}

TEST(CatchAllProbes, ApplyOnlyToJobsWaitingForTheAnswer) {
  JobPtr waiting = job("bob@a.test");
  waiting->awaiting_catch_all = true;
  waiting->distrust_memory = true;
  CatchAllProbes::apply(*waiting, ProbeAnswer{true, true});
  EXPECT_EQ(waiting->result.catch_all, true);
  EXPECT_TRUE(waiting->catch_all_seen_now);
  EXPECT_FALSE(waiting->awaiting_catch_all);
  EXPECT_FALSE(waiting->distrust_memory);

  JobPtr inconclusive = job("carol@a.test");
  inconclusive->awaiting_catch_all = true;
  CatchAllProbes::apply(*inconclusive, ProbeAnswer{true, std::nullopt});
  EXPECT_FALSE(inconclusive->awaiting_catch_all);  // the status stays unknown
  EXPECT_FALSE(inconclusive->result.catch_all);

  JobPtr unanswered = job("dave@a.test");
  unanswered->awaiting_catch_all = true;
  CatchAllProbes::apply(*unanswered, ProbeAnswer{});
  EXPECT_TRUE(unanswered->awaiting_catch_all);  // it may ask again

  JobPtr settled = job("erin@a.test");
  CatchAllProbes::apply(*settled, ProbeAnswer{true, true});
  EXPECT_FALSE(settled->result.catch_all);
}

}  // namespace
}  // namespace mailsentry
