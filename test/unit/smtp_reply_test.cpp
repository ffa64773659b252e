#include "net/smtp_reply.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsentry {
namespace {

using Status = SmtpReplyParser::Status;

SmtpReply parse_one(std::string_view input) {
  SmtpReplyParser parser;
  SmtpReply reply;
  EXPECT_EQ(parser.feed(input, reply), Status::reply) << input;
  return reply;
}

SmtpReply make_reply(int code, std::string enhanced, std::string text) {
  SmtpReply reply;
  reply.code = code;
  reply.enhanced = std::move(enhanced);
  reply.lines = {std::move(text)};
  return reply;
}

TEST(SmtpReplyParser, SingleLineWithEnhancedCode) {
  const SmtpReply reply = parse_one("550 5.1.1 <bob@example.test>: Recipient address rejected\r\n");
  EXPECT_EQ(reply.code, 550);
  EXPECT_EQ(reply.enhanced, "5.1.1");
  ASSERT_EQ(reply.lines.size(), 1u);
  EXPECT_EQ(reply.lines[0], "<bob@example.test>: Recipient address rejected");
}

TEST(SmtpReplyParser, MultiLine) {
  const SmtpReply reply =
      parse_one("250-mx.example.test Hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 SMTPUTF8\r\n");
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.enhanced, "");
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"mx.example.test Hello", "PIPELINING",
                                                   "SIZE 1000", "SMTPUTF8"}));
  EXPECT_EQ(reply.text(), "mx.example.test Hello PIPELINING SIZE 1000 SMTPUTF8");
}

TEST(SmtpReplyParser, EnhancedCodeOnEveryLineIsStripped) {
  const SmtpReply reply = parse_one("550-5.7.1 Blocked\r\n550 5.7.1 see https://x.test\r\n");
  EXPECT_EQ(reply.enhanced, "5.7.1");
  EXPECT_EQ(reply.text(), "Blocked see https://x.test");
}

TEST(SmtpReplyParser, EnhancedCodeMustMatchTheReplyClass) {
  // "4.2.0" on a 250 is text, not a status code; so is a version number.
  EXPECT_EQ(parse_one("250 4.2.0 odd\r\n").enhanced, "");
  EXPECT_EQ(parse_one("250 2.1.5 OK\r\n").enhanced, "2.1.5");
  EXPECT_EQ(parse_one("220 2.0 ready\r\n").enhanced, "");
  EXPECT_EQ(parse_one("550 5.1.10 null MX\r\n").enhanced, "5.1.10");
  EXPECT_EQ(parse_one("550 5.1.1234 x\r\n").enhanced, "");
}

TEST(SmtpReplyParser, CodeOnlyAndBareLf) {
  SmtpReply reply = parse_one("250\r\n");
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.text(), "");
  reply = parse_one("221 bye\n");
  EXPECT_EQ(reply.code, 221);
  EXPECT_EQ(reply.text(), "bye");
}

TEST(SmtpReplyParser, PipelinedRepliesInOneBuffer) {
  SmtpReplyParser parser;
  SmtpReply reply;
  ASSERT_EQ(parser.feed("250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 no\r\n", reply), Status::reply);
  EXPECT_EQ(reply.enhanced, "2.1.0");
  ASSERT_EQ(parser.next(reply), Status::reply);
  EXPECT_EQ(reply.enhanced, "2.1.5");
  ASSERT_EQ(parser.next(reply), Status::reply);
  EXPECT_EQ(reply.code, 550);
  EXPECT_EQ(parser.next(reply), Status::need_more);
}

TEST(SmtpReplyParser, SplitAcrossFeeds) {
  SmtpReplyParser parser;
  SmtpReply reply;
  EXPECT_EQ(parser.feed("25", reply), Status::need_more);
  EXPECT_EQ(parser.feed("0-first\r", reply), Status::need_more);
  EXPECT_EQ(parser.feed("\n250 sec", reply), Status::need_more);
  ASSERT_EQ(parser.feed("ond\r\n451 4.7.1", reply), Status::reply);
  EXPECT_EQ(reply.lines, (std::vector<std::string>{"first", "second"}));
  ASSERT_EQ(parser.feed(" later\r\n", reply), Status::reply);
  EXPECT_EQ(reply.code, 451);
  EXPECT_EQ(reply.enhanced, "4.7.1");
}

TEST(SmtpReplyParser, OversizedLineIsMalformed) {
  SmtpReplyParser parser;
  SmtpReply reply;
  const std::string long_line = "250 " + std::string(SmtpReplyParser::kMaxLineLength, 'a');
  EXPECT_EQ(parser.feed(long_line, reply), Status::malformed);
  EXPECT_FALSE(parser.malformed_reason().empty());
  // Sticky: nothing more is accepted on this connection.
  EXPECT_EQ(parser.feed("250 OK\r\n", reply), Status::malformed);

  SmtpReplyParser with_newline;
  EXPECT_EQ(with_newline.feed(long_line + "\r\n", reply), Status::malformed);
}

TEST(SmtpReplyParser, ALongestLineIsAcceptedWhereverTheReadsSplitIt) {
  // Exactly kMaxLineLength octets before the CRLF; a read may end between
  // the CR and the LF (found by the smtp_reply fuzz target).
  const std::string line = "250 " + std::string(SmtpReplyParser::kMaxLineLength - 4, 'a');
  SmtpReply whole_reply;
  SmtpReplyParser whole;
  ASSERT_EQ(whole.feed(line + "\r\n", whole_reply), Status::reply);
  SmtpReply split_reply;
  SmtpReplyParser split;
  EXPECT_EQ(split.feed(line + "\r", split_reply), Status::need_more);
  ASSERT_EQ(split.feed("\n", split_reply), Status::reply);
  EXPECT_EQ(split_reply.lines, whole_reply.lines);
}

TEST(SmtpReplyParser, TooManyLinesIsMalformed) {
  SmtpReplyParser parser;
  SmtpReply reply;
  std::string input;
  for (std::size_t i = 0; i <= SmtpReplyParser::kMaxLines; ++i) input += "250-line\r\n";
  EXPECT_EQ(parser.feed(input, reply), Status::malformed);
}

TEST(SmtpReplyParser, Garbage) {
  for (const char* input : {"hello\r\n", "2x0 OK\r\n", "250_OK\r\n", "650 nope\r\n",
                            "199 too low\r\n", "25\r\n", "\r\n", "250-a\r\n251 b\r\n"}) {
    SmtpReplyParser parser;
    SmtpReply reply;
    EXPECT_EQ(parser.feed(input, reply), Status::malformed) << input;
  }
}

struct ClassificationCase {
  int code;
  const char* enhanced;
  const char* text;
  RcptVerdict verdict;
};

TEST(SmtpReplyClassification, Table) {
  const ClassificationCase cases[] = {
      {250, "2.1.5", "OK", RcptVerdict::exists},
      {251, "", "User not local; will forward", RcptVerdict::exists},
      {550, "5.1.1", "User unknown", RcptVerdict::does_not_exist},
      {551, "5.1.6", "moved", RcptVerdict::does_not_exist},
      {553, "5.1.3", "bad address syntax", RcptVerdict::does_not_exist},
      {550, "", "No such user here", RcptVerdict::does_not_exist},
      {550, "5.0.0", "User unknown", RcptVerdict::does_not_exist},
      {550, "5.7.1", "Service unavailable; client host blocked", RcptVerdict::policy_refusal},
      {554, "5.7.1", "Relay access denied", RcptVerdict::policy_refusal},
      {550, "", "Blocked by Spamhaus, see https://x.test", RcptVerdict::policy_refusal},
      {550, "5.0.0", "rejected by policy", RcptVerdict::policy_refusal},
      {552, "5.2.2", "Mailbox full", RcptVerdict::mailbox_full},
      {552, "", "Quota exceeded", RcptVerdict::mailbox_full},
      {550, "5.2.2", "over quota", RcptVerdict::mailbox_full},
      {452, "4.2.2", "over quota, try later", RcptVerdict::mailbox_full},
      {451, "4.7.1", "Please try again later", RcptVerdict::greylisted},
      {450, "4.2.0", "Greylisted", RcptVerdict::greylisted},
      {450, "", "Greylisting in action, come back later", RcptVerdict::greylisted},
      {451, "4.3.0", "Temporary lookup failure; try again later", RcptVerdict::greylisted},
      {451, "4.3.0", "Temporary local problem", RcptVerdict::temporary},
      {421, "4.7.0", "Too many connections, try again later", RcptVerdict::temporary},
      {452, "4.5.3", "Too many recipients", RcptVerdict::temporary},
      {550, "5.2.1", "Mailbox disabled", RcptVerdict::inconclusive},
      {554, "", "Transaction failed", RcptVerdict::inconclusive},
      {252, "2.1.5", "Cannot VRFY user", RcptVerdict::inconclusive},
      {503, "5.5.1", "need MAIL first", RcptVerdict::inconclusive},
  };
  for (const ClassificationCase& c : cases) {
    EXPECT_EQ(classify_rcpt_reply(make_reply(c.code, c.enhanced, c.text)), c.verdict)
        << c.code << " " << c.enhanced << " " << c.text;
  }
}

TEST(CleanReplyText, ControlCharactersAndWhitespace) {
  EXPECT_EQ(clean_reply_text("  hello\r\n\tworld  "), "hello world");
  EXPECT_EQ(clean_reply_text(std::string("a\0b\x1b[31mc\x7f", 11)), "ab[31mc");
  EXPECT_EQ(clean_reply_text("x\xe2\x80\xaey"), "xy");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(clean_reply_text(""), "");
}

TEST(CleanReplyText, InvalidUtf8IsReplaced) {
  EXPECT_EQ(clean_reply_text("caf\xe9"), "caf?");
  EXPECT_EQ(clean_reply_text("\xc0\xaf"), "??");       // overlong
  EXPECT_EQ(clean_reply_text("\xed\xa0\x80"), "???");  // surrogate
  EXPECT_EQ(clean_reply_text("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(CleanReplyText, BoundedAtACharacterBoundary) {
  EXPECT_EQ(clean_reply_text(std::string(1000, 'a')).size(), 256u);
  EXPECT_EQ(clean_reply_text("abcdef", 4), "abcd");
  // "é" is two bytes: it does not fit in the last byte.
  EXPECT_EQ(clean_reply_text("abc\xc3\xa9", 4), "abc");
  EXPECT_EQ(clean_reply_text("ab \xf0\x9f\x98\x80", 6), "ab");
}

}  // namespace
}  // namespace mailsentry
