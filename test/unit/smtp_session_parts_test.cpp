// The pieces of an SMTP session that need no connection: reading EHLO
// capabilities, naming failures and connect outcomes, and sorting the
// replies of a MAIL/RCPT transaction.
#include <gtest/gtest.h>

#include <asio/error.hpp>
#include <string>
#include <vector>

#include "net/smtp_capabilities.hpp"
#include "net/smtp_session_outcome.hpp"
#include "net/smtp_transaction_replies.hpp"

namespace mailsentry {
namespace {

SmtpReply reply(int code, std::vector<std::string> lines = {"ok"}, std::string enhanced = "") {
  SmtpReply r;
  r.code = code;
  r.lines = std::move(lines);
  r.enhanced = std::move(enhanced);
  return r;
}

TEST(SmtpCapabilities, KeywordsAreWholeWordsInAnyCase) {
  EXPECT_TRUE(ehlo_keyword_is("PIPELINING", "PIPELINING"));
  EXPECT_TRUE(ehlo_keyword_is("starttls", "STARTTLS"));
  EXPECT_TRUE(ehlo_keyword_is("SIZE 35882577", "SIZE"));
  EXPECT_TRUE(ehlo_keyword_is("AUTH=LOGIN", "AUTH"));
  EXPECT_FALSE(ehlo_keyword_is("STARTTLSX", "STARTTLS"));
  EXPECT_FALSE(ehlo_keyword_is("START", "STARTTLS"));
}

TEST(SmtpCapabilities, FromEhloSkipsTheGreetingLine) {
  const SmtpCapabilities none = capabilities_from_ehlo(reply(250, {"mx.example PIPELINING"}));
  EXPECT_TRUE(none.esmtp);
  EXPECT_FALSE(none.pipelining);
  const SmtpCapabilities all = capabilities_from_ehlo(
      reply(250, {"mx.example hello", "pipelining", "SIZE 1000", "STARTTLS", "SMTPUTF8"}));
  EXPECT_TRUE(all.pipelining);
  EXPECT_TRUE(all.starttls);
  EXPECT_TRUE(all.smtputf8);
}

TEST(SmtpSessionOutcome, DescribesEveryFailure) {
  EXPECT_STREQ(describe(SessionFailure::none), "ok");
  EXPECT_STREQ(describe(SessionFailure::timeout), "timeout");
  EXPECT_STREQ(describe(SessionFailure::connection_error), "connection error");
  EXPECT_STREQ(describe(SessionFailure::malformed_reply), "malformed reply");
  EXPECT_STREQ(describe(SessionFailure::refused_greeting), "greeting refused");
  EXPECT_STREQ(describe(SessionFailure::refused_hello), "EHLO/HELO refused");
  EXPECT_STREQ(describe(SessionFailure::tls_unavailable), "STARTTLS not offered");
  EXPECT_STREQ(describe(SessionFailure::tls_failed), "STARTTLS failed");
  EXPECT_STREQ(describe(SessionFailure::protocol_error), "protocol error");
  EXPECT_STREQ(describe(SessionFailure::aborted), "aborted");
  EXPECT_STREQ(describe(static_cast<SessionFailure>(99)), "unknown");
}

TEST(SmtpSessionOutcome, ClassifiesConnectErrors) {
  const std::error_code none;
  EXPECT_EQ(classify_connect_error(SessionFailure::timeout, none), TcpConnect::timed_out);
  EXPECT_EQ(classify_connect_error(SessionFailure::aborted, asio::error::connection_refused),
            TcpConnect::not_attempted);
  EXPECT_EQ(
      classify_connect_error(SessionFailure::connection_error, asio::error::connection_refused),
      TcpConnect::refused);
  EXPECT_EQ(classify_connect_error(SessionFailure::connection_error, asio::error::host_unreachable),
            TcpConnect::unreachable);
  EXPECT_EQ(classify_connect_error(SessionFailure::connection_error, asio::error::access_denied),
            TcpConnect::unreachable);
  EXPECT_EQ(
      classify_connect_error(SessionFailure::connection_error, asio::error::network_unreachable),
      TcpConnect::failed);
}

TEST(SmtpSessionOutcome, BriefReply) {
  EXPECT_EQ(brief_reply(reply(550, {"no such", "user"}, "5.1.1")), "550 5.1.1 no such user");
  EXPECT_EQ(brief_reply(reply(421, {}, "")), "421");
  EXPECT_EQ(brief_reply(reply(250, {std::string(300, 'x')})).size(), 4u + 200u);
}

TEST(SmtpTransactionReplies, MailThenRecipients) {
  TransactionSent sent;
  sent.recipients = 2;
  const TransactionResult result = read_transaction_replies(
      sent, SessionFailure::none, "", {reply(250), reply(250), reply(550, {"no"}, "5.1.1")});
  EXPECT_EQ(result.failure, SessionFailure::none);
  ASSERT_TRUE(result.mail_reply);
  EXPECT_EQ(result.mail_reply->code, 250);
  ASSERT_EQ(result.rcpt_replies.size(), 2u);
  EXPECT_EQ(result.rcpt_replies[1].code, 550);
  EXPECT_FALSE(result.continued);
  EXPECT_TRUE(opened_transaction(result));
}

TEST(SmtpTransactionReplies, RsetFirstAndRefusedMail) {
  TransactionSent sent;
  sent.rset = true;
  sent.recipients = 1;
  const TransactionResult result =
      read_transaction_replies(sent, SessionFailure::none, "", {reply(250), reply(550)});
  ASSERT_TRUE(result.mail_reply);
  EXPECT_EQ(result.mail_reply->code, 550);
  EXPECT_TRUE(result.rcpt_replies.empty());  // a refused MAIL answers no recipient
  EXPECT_FALSE(opened_transaction(result));
}

TEST(SmtpTransactionReplies, RefusedRsetIsAProtocolError) {
  TransactionSent sent;
  sent.rset = true;
  sent.recipients = 1;
  const TransactionResult result = read_transaction_replies(
      sent, SessionFailure::none, "", {reply(502, {"no"}), reply(250), reply(250)});
  EXPECT_EQ(result.failure, SessionFailure::protocol_error);
  EXPECT_EQ(result.detail, "RSET refused: 502 no");
  EXPECT_FALSE(result.mail_reply);
  EXPECT_TRUE(result.rcpt_replies.empty());
}

TEST(SmtpTransactionReplies, JoiningTheOpenTransaction) {
  TransactionSent sent;
  sent.mail = false;
  sent.recipients = 2;
  sent.open_mail_reply = reply(250, {"sender ok"});
  const TransactionResult result =
      read_transaction_replies(sent, SessionFailure::none, "", {reply(250), reply(251)});
  EXPECT_TRUE(result.continued);
  ASSERT_TRUE(result.mail_reply);
  EXPECT_EQ(result.mail_reply->text(), "sender ok");
  EXPECT_EQ(result.rcpt_replies.size(), 2u);
  EXPECT_FALSE(opened_transaction(result));  // it was open already
}

TEST(SmtpTransactionReplies, AFailurePartWayKeepsTheAnswersThatCame) {
  TransactionSent sent;
  sent.recipients = 3;
  const TransactionResult result = read_transaction_replies(
      sent, SessionFailure::timeout, "timeout after 10 ms", {reply(250), reply(250)});
  EXPECT_EQ(result.failure, SessionFailure::timeout);
  EXPECT_EQ(result.detail, "timeout after 10 ms");
  EXPECT_EQ(result.rcpt_replies.size(), 1u);
}

TEST(SmtpTransactionReplies, NoMoreRecipientRepliesThanRecipients) {
  TransactionSent sent;
  sent.recipients = 1;
  const TransactionResult result = read_transaction_replies(sent, SessionFailure::none, "",
                                                            {reply(250), reply(250), reply(250)});
  EXPECT_EQ(result.rcpt_replies.size(), 1u);
}

}  // namespace
}  // namespace mailsentry
