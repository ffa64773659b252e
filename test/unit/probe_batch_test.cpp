// Filling one batch from a host's queue, with no session: which jobs go in
// (their RCPTs and their domain's probes), which park, stay queued or come
// back answered.
#include "net/probe_batch.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "probe_parts_fixture.hpp"

namespace mailsentry {
namespace {

using namespace probe_parts;

class ProbeBatchTest : public ::testing::Test {
 protected:
  JobPtr queued(const std::string& recipient, bool smtputf8 = false) {
    JobPtr made = job(recipient);
    made->request.needs_smtputf8 = smtputf8;
    probes.join(*made);
    waiting.push_back(made);
    return made;
  }

  CatchAllProbes probes{60s, 3};
  std::deque<JobPtr> waiting;
  Batch batch;
};

TEST_F(ProbeBatchTest, RcptsInOrderWithOneProbePerDomain) {
  const JobPtr bob = queued("bob@a.test");
  const JobPtr carol = queued("carol@a.test");
  const JobPtr dave = queued("dave@b.test");
  EXPECT_TRUE(fill_batch(batch, waiting, probes, 10).empty());
  EXPECT_TRUE(waiting.empty());
  ASSERT_EQ(batch.entries.size(), 3u);
  EXPECT_EQ(batch.recipients.size(), 5u);  // three RCPTs, two probes
  EXPECT_EQ(batch.recipients[0], "bob@a.test");
  EXPECT_EQ(batch.recipients[2], "carol@a.test");
  EXPECT_EQ(batch.recipients[3], "dave@b.test");
  ASSERT_EQ(batch.probes.size(), 2u);
  EXPECT_EQ(batch.probes[0], (std::pair<std::string, std::size_t>{"a.test", 1}));
  EXPECT_EQ(batch.probes[1], (std::pair<std::string, std::size_t>{"b.test", 4}));
  EXPECT_EQ(batch.recipients[1].substr(CatchAllProbes::kLocalPartLength), "@a.test");
  EXPECT_TRUE(probes.probe_in_flight("a.test"));
  EXPECT_EQ(batch.entries[1].job, carol);
  EXPECT_EQ(batch.entries[1].rcpt_index, 2u);
  EXPECT_FALSE(batch.smtputf8);
}

TEST_F(ProbeBatchTest, BudgetStopsTheBatchAndTheRestStaysQueued) {
  queued("bob@a.test");
  const JobPtr carol = queued("carol@b.test");
  fill_batch(batch, waiting, probes, 2);
  EXPECT_EQ(batch.entries.size(), 1u);  // bob and a.test's probe
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting.front(), carol);
}

TEST_F(ProbeBatchTest, OtherSmtputf8NeedStaysQueuedInOrder) {
  const JobPtr ascii = queued("bob@a.test");
  const JobPtr utf8_one = queued("jörg@a.test", true);
  const JobPtr utf8_two = queued("jürgen@a.test", true);
  const JobPtr ascii_two = queued("carol@a.test");
  fill_batch(batch, waiting, probes, 10, true);
  ASSERT_EQ(batch.entries.size(), 2u);
  EXPECT_EQ(batch.entries[0].job, utf8_one);
  EXPECT_TRUE(batch.smtputf8);
  EXPECT_EQ(waiting, (std::deque<JobPtr>{ascii, ascii_two}));
}

TEST_F(ProbeBatchTest, ProbeOnlyJobsCarryTheProbeOrParkBehindOne) {
  const JobPtr answered_a = queued("bob@a.test");
  answered_a->answer = reply(250);
  const JobPtr answered_b = queued("carol@b.test");
  answered_b->answer = reply(250);
  probes.start_probe("b.test");  // another transaction probes b.test
  fill_batch(batch, waiting, probes, 10);
  ASSERT_EQ(batch.entries.size(), 1u);
  EXPECT_FALSE(batch.entries[0].rcpt);
  EXPECT_EQ(batch.recipients.size(), 1u);  // a.test's probe only
  EXPECT_EQ(probes.take_parked("b.test"), std::vector<JobPtr>{answered_b});
}

TEST_F(ProbeBatchTest, FinishedJobsDropAndAnsweredOnesComeBack) {
  const JobPtr done = queued("bob@a.test");
  done->finished = true;
  const JobPtr known = queued("carol@b.test");
  known->answer = reply(250);
  probes.remember("b.test", false, 60s);  // its status is known meanwhile
  EXPECT_EQ(fill_batch(batch, waiting, probes, 10), std::vector<JobPtr>{known});
  EXPECT_TRUE(batch.entries.empty());
  EXPECT_TRUE(waiting.empty());
  EXPECT_EQ(known->result.catch_all, false);
}

TEST(ProbeBatch, StreamsWithoutPipelining) {
  asio::io_context io;
  const auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  const auto session = SmtpSession::create(io, tls, SessionConfig{});
  EXPECT_TRUE(streams(*session));  // no EHLO yet: no PIPELINING
}

}  // namespace
}  // namespace mailsentry
