// SMTP replies: parsing (multi-line, RFC 5321 4.2), enhanced status codes
// (RFC 3463), classification of RCPT answers, and cleaning of reply text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsentry {

struct SmtpReply {
  int code = 0;                    // 3-digit reply code
  std::string enhanced;            // "5.1.1" when the server sent one, else ""
  std::vector<std::string> lines;  // text after "NNN-" / "NNN " (and the enhanced code)
  std::string text() const;        // lines joined with ' '
};

// Accumulates bytes from the server and yields complete replies. Enforces
// limits so a hostile server cannot make it buffer without end.
class SmtpReplyParser {
 public:
  static constexpr std::size_t kMaxLineLength = 4096;
  static constexpr std::size_t kMaxLines = 64;

  enum class Status { need_more, reply, malformed };
  // Consumes input; on Status::reply, `reply` holds it and the rest of the
  // input stays buffered for the next call (pipelined replies).
  Status feed(std::string_view input, SmtpReply& reply);
  // Parses what is buffered without new input.
  Status next(SmtpReply& reply) { return feed({}, reply); }
  std::string malformed_reason() const { return malformed_reason_; }

 private:
  std::string buffer_;
  std::vector<std::string> pending_lines_;
  int pending_code_ = 0;
  std::string pending_enhanced_;
  std::string malformed_reason_;
};

enum class RcptVerdict {
  exists,          // 250, 251
  does_not_exist,  // 550/551/553 with 5.1.x (or no enhanced code and a plain 550/551/553)
  mailbox_full,    // 552 or 5.2.2: the mailbox exists
  greylisted,      // 450/451 that says greylist / try again later
  policy_refusal,  // 5.7.x, anti-probe refusals: inconclusive
  temporary,       // 421 and other 4xx: inconclusive
  inconclusive,    // anything else
};

RcptVerdict classify_rcpt_reply(const SmtpReply& reply);

// Printable, single-line, at most max_bytes (cut at a UTF-8 boundary), with
// control characters removed: safe to store and show.
std::string clean_reply_text(std::string_view text, std::size_t max_bytes = 256);

}  // namespace mailsentry
