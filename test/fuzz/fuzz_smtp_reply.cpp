// SMTP replies: SmtpReplyParser (fed at once and in pieces, as a socket
// delivers them), classify_rcpt_reply() and clean_reply_text().
//
// The input is the raw server text. It is fed whole, then again in pieces of
// 1 + size % 13 bytes, so that replies split anywhere are covered without a
// header in the seeds.
//
// Checked beyond "no crash, no UB, no leak": the two feedings yield the same
// replies, and clean_reply_text() keeps its promise (at most max_bytes, no
// control byte).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "net/smtp_reply.hpp"

using mailsentry::SmtpReply;
using mailsentry::SmtpReplyParser;
using mailsentry::fuzz::has_control_byte;
using mailsentry::fuzz::invariant_broken;

namespace {

void check_clean(std::string_view text, std::size_t max_bytes) {
  const std::string cleaned = mailsentry::clean_reply_text(text, max_bytes);
  if (cleaned.size() > max_bytes) invariant_broken("clean_reply_text longer than max_bytes", text);
  if (has_control_byte(cleaned))
    invariant_broken("clean_reply_text kept a control byte", text, cleaned);
}

// Feeds `input` in pieces of `piece` bytes (0: all at once); returns the
// replies, each as code, enhanced code and lines, then "malformed" if so.
std::vector<std::string> parse_all(std::string_view input, std::size_t piece) {
  std::vector<std::string> replies;
  SmtpReplyParser parser;
  SmtpReply reply;
  std::size_t pos = 0;
  do {
    const std::size_t n = piece == 0 ? input.size() : std::min(piece, input.size() - pos);
    SmtpReplyParser::Status status = parser.feed(input.substr(pos, n), reply);
    pos += n;
    // Pipelined replies stay buffered: drain them as the SMTP session does.
    while (status == SmtpReplyParser::Status::reply) {
      std::string summary = std::to_string(reply.code) + " " + reply.enhanced;
      for (const std::string& line : reply.lines) summary += "|" + line;
      replies.push_back(std::move(summary));
      volatile auto verdict = mailsentry::classify_rcpt_reply(reply);
      (void)verdict;
      check_clean(reply.text(), 256);
      status = parser.next(reply);
    }
    if (status == SmtpReplyParser::Status::malformed) {
      if (parser.malformed_reason().empty()) invariant_broken("malformed without a reason", input);
      replies.emplace_back("malformed");
      break;
    }
  } while (pos < input.size());
  return replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const std::vector<std::string> whole = parse_all(input, 0);
  const std::vector<std::string> pieces = parse_all(input, 1 + size % 13);
  if (whole != pieces) invariant_broken("replies depend on how the input is split", input);

  for (std::size_t max_bytes : {0, 1, 3, 16, 256}) check_clean(input, max_bytes);
  return 0;
}
