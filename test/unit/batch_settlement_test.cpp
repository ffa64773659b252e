// Settling a finished transaction for each job of its batch, and judging a
// session that failed to open: decisions only, nothing carried out.
#include "net/batch_settlement.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/opening_failure.hpp"
#include "probe_parts_fixture.hpp"

namespace mailsentry {
namespace {

using namespace probe_parts;

// A batch on mx.a.test: RCPTs for `recipients`, then a.test's probe.
Batch batch_of(std::vector<std::string> recipients, bool with_probe = false) {
  Batch batch;
  batch.host = "mx.a.test";
  for (const std::string& recipient : recipients) {
    batch.entries.push_back(Batch::Entry{job(recipient), true, batch.recipients.size()});
    batch.recipients.push_back(recipient);
  }
  if (with_probe) {
    batch.probes.emplace_back("a.test", batch.recipients.size());
    batch.recipients.push_back("random@a.test");
  }
  return batch;
}

TransactionResult accepted(std::vector<SmtpReply> rcpt_replies,
                           SessionFailure failure = SessionFailure::none, std::string detail = "") {
  TransactionResult transaction;
  transaction.mail_reply = reply(250);
  transaction.rcpt_replies = std::move(rcpt_replies);
  transaction.failure = failure;
  transaction.detail = std::move(detail);
  return transaction;
}

std::vector<EntryFate> fates(const BatchSettlement& settlement) {
  std::vector<EntryFate> all;
  for (const EntrySettlement& entry : settlement.entries) all.push_back(entry.fate);
  return all;
}

TEST(BatchSettlement, EveryReplyAnswersItsJobAndTheProbe) {
  const Batch batch = batch_of({"bob@a.test", "carol@a.test"}, true);
  const TransactionResult transaction = accepted({reply(250), reply(550, "5.1.1"), reply(250)});
  const BatchSettlement settlement = settle_batch(batch, transaction);
  EXPECT_FALSE(settlement.batch_failure);
  EXPECT_TRUE(settlement.marks.empty());
  EXPECT_EQ(fates(settlement), (std::vector<EntryFate>{EntryFate::answered, EntryFate::answered}));
  EXPECT_EQ(settlement.entries[1].reply, &transaction.rcpt_replies[1]);
  ASSERT_EQ(settlement.probe_replies.size(), 1u);
  EXPECT_EQ(settlement.probe_replies[0], &transaction.rcpt_replies[2]);
}

TEST(BatchSettlement, ProbeOnlyEntriesConcludeAndFinishedOnesAreSkipped) {
  Batch batch = batch_of({"bob@a.test"}, true);
  batch.entries[0].job->finished = true;
  batch.entries.push_back(Batch::Entry{job("carol@a.test"), false, 0});
  const BatchSettlement settlement = settle_batch(batch, accepted({reply(250), reply(250)}));
  EXPECT_EQ(fates(settlement), (std::vector<EntryFate>{EntryFate::skip, EntryFate::conclude}));
}

TEST(BatchSettlement, AbortedFailsTheWholeBatch) {
  TransactionResult transaction;
  transaction.failure = SessionFailure::aborted;
  const BatchSettlement settlement = settle_batch(batch_of({"bob@a.test"}), transaction);
  EXPECT_EQ(settlement.batch_failure, "prober shut down");
  EXPECT_TRUE(settlement.entries.empty());
}

TEST(BatchSettlement, MailFromRefusedOrUnanswered) {
  TransactionResult silent;
  BatchSettlement settlement = settle_batch(batch_of({"bob@a.test"}), silent);
  EXPECT_EQ(settlement.batch_failure, "mx.a.test: no reply to MAIL FROM");

  TransactionResult refused;
  refused.mail_reply = reply(550, "5.7.1", "go away");
  settlement = settle_batch(batch_of({"bob@a.test"}), refused);
  EXPECT_EQ(settlement.batch_failure, "mx.a.test: MAIL FROM refused: 550 5.7.1");
  EXPECT_EQ(settlement.refused_mail, &*refused.mail_reply);
  EXPECT_TRUE(settlement.marks.empty());

  TransactionResult closing;
  closing.mail_reply = reply(421);
  settlement = settle_batch(batch_of({"bob@a.test"}), closing);
  EXPECT_EQ(settlement.batch_failure, "mx.a.test: MAIL FROM refused: 421");
  EXPECT_EQ(settlement.marks, (HostMarks{HostMark::failure, HostMark::back_off}));
}

TEST(BatchSettlement, A421MidBatchBacksOffAndTheRestTryAgain) {
  const BatchSettlement settlement =
      settle_batch(batch_of({"bob@a.test", "carol@a.test"}), accepted({reply(421, "4.3.2")}));
  EXPECT_EQ(settlement.marks, (HostMarks{HostMark::failure, HostMark::back_off}));
  EXPECT_EQ(fates(settlement),
            (std::vector<EntryFate>{EntryFate::answered, EntryFate::next_attempt}));
  EXPECT_EQ(settlement.entries[1].warning, "mx.a.test: no reply to RCPT TO");
}

TEST(BatchSettlement, TimeoutRetriesEveryUnansweredJob) {
  const BatchSettlement settlement =
      settle_batch(batch_of({"bob@a.test", "carol@a.test", "dave@a.test"}),
                   accepted({reply(250)}, SessionFailure::timeout, "RCPT TO timed out"));
  EXPECT_EQ(settlement.marks, HostMarks{HostMark::timeout});
  EXPECT_EQ(fates(settlement), (std::vector<EntryFate>{EntryFate::answered, EntryFate::next_attempt,
                                                       EntryFate::next_attempt}));
  EXPECT_EQ(settlement.entries[2].warning, "mx.a.test: RCPT TO timed out");
}

TEST(BatchSettlement, StaleReusedSessionRetriesOnceWithoutBlame) {
  Batch batch = batch_of({"bob@a.test", "carol@a.test"});
  batch.reused = true;
  batch.entries[1].job->stale_retry_used = true;
  TransactionResult dropped;
  dropped.failure = SessionFailure::connection_error;
  dropped.detail = "connection reset";
  const BatchSettlement settlement = settle_batch(batch, dropped);
  EXPECT_TRUE(settlement.marks.empty());  // not the MX's fault
  EXPECT_EQ(fates(settlement),
            (std::vector<EntryFate>{EntryFate::retry_stale, EntryFate::next_attempt}));
  EXPECT_EQ(settlement.entries[1].warning, "mx.a.test: connection reset");

  batch.reused = false;  // a fresh session dropped: the host's failure
  EXPECT_EQ(settle_batch(batch, dropped).marks, HostMarks{HostMark::failure});
}

TEST(BatchSettlement, TheFirstMissingReplyIsBlamedTheOthersRerun) {
  const BatchSettlement settlement =
      settle_batch(batch_of({"bob@a.test", "carol@a.test", "dave@a.test"}),
                   accepted({reply(250)}, SessionFailure::malformed_reply, "garbage"));
  EXPECT_TRUE(settlement.marks.empty());
  EXPECT_EQ(fates(settlement),
            (std::vector<EntryFate>{EntryFate::answered, EntryFate::fail, EntryFate::rerun}));
  EXPECT_EQ(settlement.entries[1].warning, "mx.a.test: malformed reply: garbage");
}

TEST(BatchSettlement, ProbeWithoutReplyIsUnanswered) {
  const BatchSettlement settlement = settle_batch(
      batch_of({"bob@a.test"}, true), accepted({reply(250)}, SessionFailure::timeout, "timed out"));
  ASSERT_EQ(settlement.probe_replies.size(), 1u);
  EXPECT_EQ(settlement.probe_replies[0], nullptr);
}

TEST(OpeningFailure, LostConnectionsRetryAndMarkTheHost) {
  OpenResult open;
  open.failure = SessionFailure::timeout;
  OpeningFailure judged = judge_opening_failure(open);
  EXPECT_TRUE(judged.retry);
  EXPECT_EQ(judged.marks, HostMarks{HostMark::timeout});
  open.failure = SessionFailure::connection_error;
  judged = judge_opening_failure(open);
  EXPECT_TRUE(judged.retry);
  EXPECT_EQ(judged.marks, HostMarks{HostMark::failure});
}

TEST(OpeningFailure, RefusedGreetingEndsTheJobsAndA421BacksOff) {
  OpenResult open;
  open.failure = SessionFailure::refused_greeting;
  open.reply = reply(554);
  OpeningFailure judged = judge_opening_failure(open);
  EXPECT_FALSE(judged.retry);
  EXPECT_EQ(judged.marks, HostMarks{HostMark::failure});
  open.reply = reply(421);
  EXPECT_EQ(judge_opening_failure(open).marks, (HostMarks{HostMark::failure, HostMark::back_off}));
}

TEST(OpeningFailure, OtherRefusalsProveTheHostAliveAndAbortIsShutdown) {
  OpenResult open;
  open.failure = SessionFailure::tls_unavailable;
  OpeningFailure judged = judge_opening_failure(open);
  EXPECT_EQ(judged.marks, HostMarks{HostMark::success});
  EXPECT_FALSE(judged.retry);
  EXPECT_FALSE(judged.shut_down);
  open.failure = SessionFailure::aborted;
  judged = judge_opening_failure(open);
  EXPECT_TRUE(judged.shut_down);
  EXPECT_TRUE(judged.marks.empty());
}

}  // namespace
}  // namespace mailsentry
