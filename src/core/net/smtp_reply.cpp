#include "net/smtp_reply.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>

namespace mailsentry {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of an RFC 3463 code ("5.1.1") at the start of `text` whose class
// matches the reply's first digit, followed by a space or the end; 0 if none.
std::size_t enhanced_code_length(std::string_view text, int reply_code) {
  if (text.size() < 5) return 0;
  const char expected_class = static_cast<char>('0' + reply_code / 100);
  if (text[0] != expected_class || text[1] != '.') return 0;
  std::size_t pos = 2;
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos]) && pos - start < 4) ++pos;
    const std::size_t digits = pos - start;
    if (digits == 0 || digits > 3) return 0;
    if (part == 0) {
      if (pos >= text.size() || text[pos] != '.') return 0;
      ++pos;
    }
  }
  if (pos < text.size() && text[pos] != ' ') return 0;
  return pos;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    std::size_t j = 0;
    while (j < needle.size() && ascii_lower(haystack[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

bool mentions_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles)
    if (contains_ci(text, needle)) return true;
  return false;
}

// Wording of anti-spam and anti-probe refusals that some servers send with a
// bare 550 and no enhanced code.
bool sounds_like_policy(std::string_view text) {
  return mentions_any(text, {"spam", "block", "blacklist", "blocklist", "denylist", "policy",
                             "reputation", "rbl", "dnsbl", "spamhaus", "not permitted", "relay",
                             "access denied", "rejected due to", "abuse", "banned", "too many"});
}

bool sounds_like_unknown_user(std::string_view text) {
  return mentions_any(text, {"user unknown", "unknown user", "no such user", "no such mailbox",
                             "does not exist", "doesn't exist", "mailbox not found",
                             "invalid recipient", "recipient unknown", "unknown recipient",
                             "address rejected", "not found", "mailbox unavailable", "no mailbox"});
}

bool sounds_like_greylisting(std::string_view text) {
  return mentions_any(text, {"greylist", "graylist", "grey-list", "gray-list", "grey list",
                             "gray list", "try again later", "try later", "retry later",
                             "please retry", "come back later", "temporarily deferred"});
}

struct EnhancedCode {
  int klass = 0;
  int subject = -1;
  int detail = -1;
};

EnhancedCode split_enhanced(std::string_view code) {
  EnhancedCode out;
  if (code.empty()) return out;
  int values[3] = {-1, -1, -1};
  int index = 0;
  int value = 0;
  bool have_digit = false;
  for (char c : code) {
    if (c == '.') {
      if (index < 3) values[index] = have_digit ? value : -1;
      ++index;
      value = 0;
      have_digit = false;
    } else if (is_digit(c)) {
      value = value * 10 + (c - '0');
      have_digit = true;
    }
  }
  if (index < 3) values[index] = have_digit ? value : -1;
  out.klass = values[0];
  out.subject = values[1];
  out.detail = values[2];
  return out;
}

// Decodes one UTF-8 sequence at text[pos]; returns its length, or 0 when the
// bytes there are not well-formed UTF-8 (overlong, surrogate, truncated ...).
std::size_t decode_utf8(std::string_view text, std::size_t pos, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  std::size_t length = 0;
  std::uint32_t min_value = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
    min_value = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
    min_value = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
    min_value = 0x10000;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(pos + i) & 0x3F);
  }
  if (code_point < min_value || code_point > 0x10FFFF) return 0;
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  return length;
}

bool is_space_like(std::uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\v' || cp == '\f' ||
         cp == 0x85 || cp == 0xA0 || cp == 0x2028 || cp == 0x2029;
}

// Control characters, and the bidirectional overrides that can make a stored
// message display differently from what it says.
bool is_invisible_control(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

}  // namespace

std::string SmtpReply::text() const {
  std::string joined;
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    if (!joined.empty()) joined += ' ';
    joined += line;
  }
  return joined;
}

SmtpReplyParser::Status SmtpReplyParser::feed(std::string_view input, SmtpReply& reply) {
  if (!malformed_reason_.empty()) return Status::malformed;
  buffer_.append(input.data(), input.size());

  const auto fail = [this](std::string reason) {
    malformed_reason_ = std::move(reason);
    buffer_.clear();
    pending_lines_.clear();
    return Status::malformed;
  };

  std::size_t consumed = 0;
  Status status = Status::need_more;
  while (status == Status::need_more) {
    const std::size_t eol = buffer_.find('\n', consumed);
    if (eol == std::string::npos) {
      // A read may end between the CR and the LF: the CR is not part of the
      // line, as it is not once the LF has come.
      std::size_t pending = buffer_.size() - consumed;
      if (pending > 0 && buffer_.back() == '\r') --pending;
      if (pending > kMaxLineLength) return fail("reply line too long");
      break;
    }
    std::string_view line(buffer_.data() + consumed, eol - consumed);
    consumed = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineLength) return fail("reply line too long");

    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
      return fail("reply line does not start with a 3-digit code");
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line[0] < '2' || line[0] > '5' || line[1] > '5') return fail("reply code out of range");
    bool last_line = true;
    if (line.size() > 3) {
      if (line[3] == '-') {
        last_line = false;
      } else if (line[3] != ' ') {
        return fail("reply code not followed by ' ' or '-'");
      }
    }
    if (!pending_lines_.empty() && code != pending_code_)
      return fail("reply code changes inside a multi-line reply");
    if (pending_lines_.size() >= kMaxLines) return fail("too many lines in one reply");

    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    const std::size_t enhanced_length = enhanced_code_length(text, code);
    if (enhanced_length > 0) {
      if (pending_lines_.empty()) pending_enhanced_ = std::string(text.substr(0, enhanced_length));
      text.remove_prefix(enhanced_length);
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    }
    if (pending_lines_.empty()) pending_code_ = code;
    pending_lines_.emplace_back(text);

    if (last_line) {
      reply.code = pending_code_;
      reply.enhanced = std::move(pending_enhanced_);
      reply.lines = std::move(pending_lines_);
      pending_lines_.clear();
      pending_enhanced_.clear();
      pending_code_ = 0;
      status = Status::reply;
    }
  }
  buffer_.erase(0, consumed);
  return status;
}

RcptVerdict classify_rcpt_reply(const SmtpReply& reply) {
  const int code = reply.code;
  const EnhancedCode enhanced = split_enhanced(reply.enhanced);
  const bool has_enhanced = !reply.enhanced.empty();
  const std::string text = reply.text();

  if (code == 250 || code == 251) return RcptVerdict::exists;

  if (code >= 400 && code < 500) {
    if (code == 421) return RcptVerdict::temporary;
    // Over quota for now: the mailbox is there.
    if (has_enhanced && enhanced.subject == 2 && enhanced.detail == 2)
      return RcptVerdict::mailbox_full;
    if (code == 450 || code == 451) {
      const bool greylist_code =
          has_enhanced &&
          ((enhanced.subject == 2 && enhanced.detail == 0) ||
           (enhanced.subject == 7 && (enhanced.detail == 0 || enhanced.detail == 1)));
      if (greylist_code || sounds_like_greylisting(text)) return RcptVerdict::greylisted;
    }
    return RcptVerdict::temporary;
  }

  if (code >= 500 && code < 600) {
    if (has_enhanced && enhanced.subject == 7) return RcptVerdict::policy_refusal;
    if (code == 552 || (has_enhanced && enhanced.subject == 2 && enhanced.detail == 2))
      return RcptVerdict::mailbox_full;
    const bool address_code = code == 550 || code == 551 || code == 553;
    if (address_code && has_enhanced && enhanced.subject == 1) return RcptVerdict::does_not_exist;
    // A vague enhanced code ("5.0.0") or none at all: the wording decides.
    const bool vague = !has_enhanced || (enhanced.subject == 0 && enhanced.detail == 0);
    if (vague) {
      if (sounds_like_policy(text)) return RcptVerdict::policy_refusal;
      if (address_code && (!has_enhanced || sounds_like_unknown_user(text)))
        return RcptVerdict::does_not_exist;
    }
    return RcptVerdict::inconclusive;
  }
  return RcptVerdict::inconclusive;
}

std::string clean_reply_text(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  bool pending_space = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::uint32_t code_point = 0;
    std::size_t length = decode_utf8(text, pos, code_point);
    std::string_view piece;
    if (length == 0) {
      piece = "?";  // not UTF-8: a visible stand-in keeps the output valid
      pos += 1;
    } else {
      piece = text.substr(pos, length);
      pos += length;
      if (is_space_like(code_point)) {
        pending_space = !out.empty();
        continue;
      }
      if (is_invisible_control(code_point)) continue;
    }
    const std::size_t needed = piece.size() + (pending_space ? 1 : 0);
    if (out.size() + needed > max_bytes) break;
    if (pending_space) out += ' ';
    out.append(piece.data(), piece.size());
    pending_space = false;
  }
  return out;
}

}  // namespace mailsentry
