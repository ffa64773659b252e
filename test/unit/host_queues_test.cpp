// The per-host queues of waiting jobs on their own: order, acquisitions,
// the sessions a queue wants and what is taken out of it.
#include "net/host_queues.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probe_parts_fixture.hpp"

namespace mailsentry {
namespace {

using namespace probe_parts;

TEST(HostQueue, SessionsWantedPerBatchUpToThePerMxLimit) {
  SmtpOptions options;
  options.max_recipients_per_session = 50;
  options.max_rejections_per_session = 4;  // the smaller one sizes a batch
  options.max_connections_per_mx = 3;
  HostQueue queue;
  EXPECT_EQ(queue.sessions_wanted(options), 0u);
  for (int i = 0; i < 5; ++i) queue.waiting.push_back(job("bob@a.test"));
  EXPECT_EQ(queue.sessions_wanted(options), 2u);
  for (int i = 0; i < 20; ++i) queue.waiting.push_back(job("bob@a.test"));
  EXPECT_EQ(queue.sessions_wanted(options), 3u);
  options.max_rejections_per_session = 0;  // at least one recipient per batch
  options.max_connections_per_mx = 0;      // at least one session
  EXPECT_EQ(queue.sessions_wanted(options), 1u);
}

TEST(HostQueues, FifoWithJobsThatWaitedLongestInFront) {
  HostQueues queues;
  const JobPtr first = job("bob@a.test");
  const JobPtr second = job("carol@a.test");
  const JobPtr returning = job("dave@a.test");
  queues.push(first, false);
  queues.push(second, false);
  queues.push(returning, true);
  ASSERT_NE(queues.find("mx.a.test"), nullptr);
  EXPECT_EQ(queues.find("mx.a.test")->waiting, (std::deque<JobPtr>{returning, first, second}));
  EXPECT_EQ(queues.find("mx.b.test"), nullptr);
  EXPECT_EQ(queues.hosts(), std::vector<std::string>{"mx.a.test"});
}

TEST(HostQueues, KeptWhileAcquisitionsAreUnanswered) {
  HostQueues queues;
  queues.push(job("bob@a.test"), false);
  HostQueue* queue = queues.find("mx.a.test");
  queue->acquiring = 1;
  EXPECT_EQ(queues.take_waiting("mx.a.test").size(), 1u);
  queues.forget_if_idle("mx.a.test");
  ASSERT_NE(queues.find("mx.a.test"), nullptr);
  queues.acquisition_answered("mx.a.test");
  queues.acquisition_answered("mx.a.test");  // never below zero
  EXPECT_EQ(queues.find("mx.a.test")->acquiring, 0);
  queues.forget_if_idle("mx.a.test");
  EXPECT_EQ(queues.find("mx.a.test"), nullptr);
}

TEST(HostQueues, TakesUnansweredSmtputf8Needs) {
  HostQueues queues;
  const JobPtr ascii = job("bob@a.test");
  const JobPtr utf8 = job("jörg@a.test");
  utf8->request.needs_smtputf8 = true;
  const JobPtr answered_utf8 = job("jürgen@a.test");
  answered_utf8->request.needs_smtputf8 = true;
  answered_utf8->answer = reply(250);  // waits for its domain's probe only
  for (const JobPtr& queued : {ascii, utf8, answered_utf8}) queues.push(queued, false);
  EXPECT_EQ(queues.take_smtputf8_needs("mx.a.test"), std::vector<JobPtr>{utf8});
  EXPECT_EQ(queues.find("mx.a.test")->waiting, (std::deque<JobPtr>{ascii, answered_utf8}));
  EXPECT_TRUE(queues.take_smtputf8_needs("mx.b.test").empty());
}

}  // namespace
}  // namespace mailsentry
