#include "checks/syntax.hpp"

#include <uninorm.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "checks/address_literal.hpp"
#include "checks/idn.hpp"
#include "checks/utf8.hpp"

namespace mailsentry {
namespace {

constexpr std::size_t kMaxLocalOctets = 64;     // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomainOctets = 253;   // 255-octet wire form minus framing
constexpr std::size_t kMaxLabelOctets = 63;     // RFC 1035 2.3.4
constexpr std::size_t kMaxMailboxOctets = 254;  // 256-octet path (4.5.3.1.3) minus "<>"

// The limits apply to the wire form: the NFC local part and the A-label domain.
constexpr const char* kLocalTooLong = "local part longer than 64 octets";
constexpr const char* kDomainTooLong = "domain longer than 253 octets";
constexpr const char* kLabelTooLong = "domain label longer than 63 octets";

// RFC 6761 and RFC 9476 names that never receive Internet mail.
constexpr std::array<std::string_view, 7> kSpecialUseTlds = {
    "alt", "arpa", "invalid", "local", "localhost", "onion", "test"};

// ---------------------------------------------------------------- characters

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Invisible, spacing, bidi, private-use and noncharacter code points: they make
// an address look like something it is not, or cannot be typed back.
// ZWNJ/ZWJ (U+200C/D) stay allowed: several scripts and emoji need them.
constexpr CodePointRange kUnsafeCodePoints[] = {
    {0x0080, 0x00A0},     // C1 controls, NO-BREAK SPACE
    {0x00AD, 0x00AD},     // SOFT HYPHEN
    {0x034F, 0x034F},     // COMBINING GRAPHEME JOINER
    {0x0600, 0x0605},     // Arabic prepended format marks
    {0x061C, 0x061C},     // ARABIC LETTER MARK
    {0x06DD, 0x06DD},     // ARABIC END OF AYAH
    {0x070F, 0x070F},     // SYRIAC ABBREVIATION MARK
    {0x0890, 0x0891},     // Arabic pound/piastre marks above
    {0x08E2, 0x08E2},     // ARABIC DISPUTED END OF AYAH
    {0x115F, 0x1160},     // Hangul choseong/jungseong fillers
    {0x1680, 0x1680},     // OGHAM SPACE MARK
    {0x17B4, 0x17B5},     // Khmer invisible inherent vowels
    {0x180B, 0x180F},     // Mongolian variation selectors, vowel separator
    {0x2000, 0x200B},     // typographic spaces, ZERO WIDTH SPACE
    {0x200E, 0x200F},     // LRM, RLM
    {0x2028, 0x202F},     // line/paragraph separators, bidi embeddings/overrides, NNBSP
    {0x205F, 0x206F},     // MMSP, WORD JOINER, invisible operators, bidi isolates
    {0x3000, 0x3000},     // IDEOGRAPHIC SPACE
    {0x3164, 0x3164},     // HANGUL FILLER
    {0xD800, 0xF8FF},     // surrogates, private use area
    {0xFDD0, 0xFDEF},     // noncharacters
    {0xFEFF, 0xFEFF},     // BYTE ORDER MARK
    {0xFFA0, 0xFFA0},     // HALFWIDTH HANGUL FILLER
    {0xFFF0, 0xFFFD},     // specials, interlinear annotation, REPLACEMENT CHARACTER
    {0x110BD, 0x110BD},   // KAITHI NUMBER SIGN
    {0x110CD, 0x110CD},   // KAITHI NUMBER SIGN ABOVE
    {0x13430, 0x1343F},   // Egyptian hieroglyph format controls
    {0x1BCA0, 0x1BCA3},   // shorthand format controls
    {0x1D173, 0x1D17A},   // musical symbol format controls
    {0xE0000, 0xE007F},   // tag characters
    {0xE01F0, 0x10FFFF},  // default-ignorable reserve, private-use planes 15-16
};

bool is_unsafe_code_point(char32_t cp) {
  if ((cp & 0xFFFE) == 0xFFFE) return true;  // U+xFFFE / U+xFFFF noncharacters
  for (const CodePointRange& range : kUnsafeCodePoints) {
    if (cp < range.first) return false;  // table is sorted
    if (cp <= range.last) return true;
  }
  return false;
}

std::string describe_code_point(const char* what, char32_t cp) {
  char text[96];
  std::snprintf(text, sizeof text, "%s (U+%04X)", what, static_cast<unsigned>(cp));
  return text;
}

// One pass over the whole input. Returns an error, or "" if every character
// may appear somewhere in an address; sets `has_non_ascii`.
std::string find_forbidden_character(std::string_view input, bool& has_non_ascii) {
  has_non_ascii = false;
  for (std::size_t i = 0; i < input.size();) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    if (c < 0x80) {
      if (c == '\r' || c == '\n')
        return "line break in address (folding whitespace is not allowed)";
      if (c == '\t') return "tab character in address";
      if (c < 0x20 || c == 0x7F) return describe_code_point("control character in address", c);
      ++i;
      continue;
    }
    has_non_ascii = true;
    char32_t cp = 0;
    const std::size_t length = decode_utf8(input, i, cp);
    if (length == 0) return "invalid UTF-8";
    if (cp <= 0x9F) return describe_code_point("control character in address", cp);
    if (is_unsafe_code_point(cp)) {
      return describe_code_point("invisible or unsafe character in address", cp);
    }
    i += length;
  }
  return {};
}

constexpr std::array<bool, 256> make_atext_table() {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~"))
    table[static_cast<unsigned char>(c)] = true;
  for (int c = 0x80; c <= 0xFF; ++c) table[c] = true;  // UTF-8, validated beforehand
  return table;
}
constexpr std::array<bool, 256> kAtext = make_atext_table();

bool is_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char to_lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool starts_with_xn_prefix(std::string_view text) {
  return text.size() >= 4 && to_lower_ascii(text[0]) == 'x' && to_lower_ascii(text[1]) == 'n' &&
         text[2] == '-' && text[3] == '-';
}

std::string with_char(const char* before, char c, const char* after) {
  std::string text(before);
  text += '\'';
  text += c;
  text += '\'';
  text += after;
  return text;
}

bool is_ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

struct MallocFree {
  void operator()(std::uint8_t* memory) const { std::free(memory); }
};

// `text` in Unicode Normalization Form C; false if libunistring fails
// (out of memory: the input was validated as UTF-8 beforehand).
bool to_nfc(std::string_view text, std::string& nfc) {
  std::size_t length = 0;
  std::unique_ptr<std::uint8_t, MallocFree> normalized(
      u8_normalize(UNINORM_NFC, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                   nullptr, &length));
  if (!normalized) return false;
  nfc.assign(reinterpret_cast<const char*>(normalized.get()), length);
  return true;
}

// ---------------------------------------------------------------- local part

struct LocalPart {
  std::size_t length = 0;  // octets as written, up to (not including) the "@"
  bool quoted = false;
  std::string error;
};

std::string describe_bad_local_char(char c) {
  switch (c) {
    case ' ':
      return "unquoted space in local part";
    case '(':
    case ')':
      return "comments are not allowed";
    case '<':
    case '>':
      return "display names and angle brackets are not allowed";
    case '"':
      return "quote character inside an unquoted local part";
    case '\\':
      return "backslash outside a quoted string";
    default:
      return with_char("invalid character ", c, " in local part");
  }
}

// RFC 5321 Quoted-string with RFC 6531 UTF-8 in qtextSMTP.
LocalPart parse_quoted_local_part(std::string_view input) {
  LocalPart local;
  local.quoted = true;
  std::size_t i = 1;
  for (;;) {
    if (i >= input.size()) {
      local.error = "unclosed quoted string";
      return local;
    }
    const char c = input[i];
    if (c == '"') break;
    if (c == '\\') {
      if (i + 1 >= input.size()) {
        local.error = "unclosed quoted string";
        return local;
      }
      const unsigned char escaped = static_cast<unsigned char>(input[i + 1]);
      if (escaped < 0x20 || escaped > 0x7E) {
        local.error = "backslash before a character other than printable ASCII";
        return local;
      }
      i += 2;
      continue;
    }
    ++i;  // qtextSMTP: space, printable ASCII but '"' and '\', any UTF-8
  }
  local.length = i + 1;
  if (local.length == input.size()) {
    local.error = "missing @";
  } else if (input[local.length] == '.') {
    local.error = "quoted string must be the whole local part";
  } else if (input[local.length] != '@') {
    local.error = "text after the quoted string in local part";
  }
  return local;
}

// RFC 5321 Dot-string with RFC 6531 UTF-8 in atext.
LocalPart parse_dot_string_local_part(std::string_view input) {
  LocalPart local;
  std::size_t i = 0;
  for (; i < input.size() && input[i] != '@'; ++i) {
    const char c = input[i];
    if (c == '.') {
      if (i == 0) {
        local.error = "local part starts with a dot";
        return local;
      }
      if (input[i - 1] == '.') {
        local.error = "two dots in a row in local part";
        return local;
      }
    } else if (!kAtext[static_cast<unsigned char>(c)]) {
      local.error = describe_bad_local_char(c);
      return local;
    }
  }
  if (i == input.size()) {
    local.error = "missing @";
  } else if (i == 0) {
    local.error = "empty local part";
  } else if (input[i - 1] == '.') {
    local.error = "local part ends with a dot";
  }
  local.length = i;
  return local;
}

// RFC 6532 3.1: a UTF-8 local part travels in NFC, so it is checked and kept
// in that form. A code point whose NFC form is forbidden ASCII is refused
// like that character (U+037E GREEK QUESTION MARK is ';'), and the two
// spellings of one mailbox get one normalized form, hence one cache key.
// `written` is a local part that parsed; `local` receives its NFC form.
std::string normalize_local_part(std::string_view written, bool quoted, std::string& local) {
  if (is_ascii(written)) {  // ASCII is its own NFC
    local.assign(written);
    return {};
  }
  if (!to_nfc(written, local)) return "local part cannot be normalised to NFC";
  if (local == written) return {};

  bool non_ascii_left = false;  // known already: only the error matters
  std::string error = find_forbidden_character(local, non_ascii_left);
  if (error.empty()) {
    local += '@';  // the parsers read up to the "@"
    const LocalPart again =
        quoted ? parse_quoted_local_part(local) : parse_dot_string_local_part(local);
    if (!again.error.empty()) {
      error = again.error;
    } else if (again.length + 1 != local.size()) {
      error = "'@' in local part";
    }
    local.pop_back();
  }
  if (!error.empty()) error += " after Unicode normalisation (NFC)";
  return error;
}

// ---------------------------------------------------------------- domain

std::string describe_bad_domain_char(char c) {
  switch (c) {
    case '@':
      return "more than one @";
    case ' ':
      return "space in domain";
    case '(':
    case ')':
      return "comments are not allowed";
    case '<':
    case '>':
      return "display names and angle brackets are not allowed";
    case '[':
    case ']':
      return "address literal must be the whole domain";
    default:
      return with_char("invalid character ", c, " in domain");
  }
}

bool is_all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Checks a lower-case A-label domain: LDH labels, lengths, at least one dot,
// an alphabetic or A-label TLD that is not special-use. Returns an error or "".
std::string check_ascii_domain(std::string_view domain) {
  if (domain.size() > kMaxDomainOctets) return kDomainTooLong;
  std::size_t label_start = 0;
  for (;;) {
    std::size_t label_end = domain.find('.', label_start);
    const bool last = label_end == std::string_view::npos;
    if (last) label_end = domain.size();
    const std::string_view label = domain.substr(label_start, label_end - label_start);

    if (label.empty()) {
      if (label_start == 0) return "domain starts with a dot";
      if (last) return "domain ends with a dot";
      return "two dots in a row in domain";
    }
    if (label.size() > kMaxLabelOctets) return kLabelTooLong;
    for (char c : label) {
      if (!is_letter_or_digit(c) && c != '-') return describe_bad_domain_char(c);
    }
    if (label.front() == '-') return "domain label starts with a hyphen";
    if (label.back() == '-') return "domain label ends with a hyphen";
    // RFC 5890 2.3.1: "??--" labels are reserved; only "xn--" (A-labels) is in use.
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-' && !starts_with_xn_prefix(label)) {
      return "domain label has \"--\" in positions 3 and 4 but is not an A-label";
    }

    if (last) {
      if (label_start == 0) return "domain has no dot (a bare name cannot receive Internet mail)";
      for (std::string_view special : kSpecialUseTlds) {
        if (label == special) return "special-use domain ." + std::string(special);
      }
      // RFC 1123 2.1: the top-level label is alphabetic, so that a@1.2.3.4
      // cannot pass for an IPv4 address (RFC 3696 2). IDN TLDs are the one
      // exception: their A-labels start with "xn--".
      if (is_all_digits(label)) return "top-level domain is all digits";
      if (label.find('-') != std::string_view::npos && !starts_with_xn_prefix(label)) {
        return "top-level domain has a hyphen but is not an A-label";
      }
      return {};
    }
    label_start = label_end + 1;
  }
}

// Fills out.domain / out.domain_unicode for a (non-literal) domain name.
std::string parse_domain_name(std::string_view domain, ParsedAddress& out) {
  // ASCII-only domains without A-labels skip libidn2, which is slow.
  bool needs_idn = false;
  for (std::size_t i = 0; i < domain.size(); ++i) {
    const char c = domain[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      needs_idn = true;
    } else if (c == '.' || c == '-' || is_letter_or_digit(c)) {
      if ((i == 0 || domain[i - 1] == '.') && starts_with_xn_prefix(domain.substr(i))) {
        needs_idn = true;
      }
    } else {
      return describe_bad_domain_char(c);
    }
  }

  if (!needs_idn) {
    out.domain.resize(domain.size());
    for (std::size_t i = 0; i < domain.size(); ++i) out.domain[i] = to_lower_ascii(domain[i]);
    out.domain_unicode = out.domain;
  } else {
    IdnDomain converted = convert_idn_domain(domain);
    switch (converted.failure) {
      case IdnFailure::none:
        break;
      case IdnFailure::label_too_long:
        return std::string(kLabelTooLong) + " in A-label form";
      case IdnFailure::domain_too_long:
        return std::string(kDomainTooLong) + " in A-label form";
      case IdnFailure::invalid:
        return std::move(converted.error);
    }
    out.domain = std::move(converted.ascii);
    out.domain_unicode = std::move(converted.unicode);
  }
  return check_ascii_domain(out.domain);
}

// Fills out.domain for "[...]"; `domain` starts with '['.
std::string parse_address_literal(std::string_view domain, ParsedAddress& out) {
  const std::size_t close = domain.find(']');
  if (close == std::string_view::npos) return "unclosed address literal";
  if (close + 1 != domain.size()) return "text after address literal";
  const std::string_view inside = domain.substr(1, close - 1);
  if (inside.find('[') != std::string_view::npos) return "'[' inside address literal";

  std::string canonical;
  const LiteralCheck check = check_address_literal(inside, canonical);
  if (!check.ok) return std::string(check.error);
  out.domain.reserve(canonical.size() + 2);
  out.domain = "[";
  out.domain += canonical;
  out.domain += ']';
  out.domain_unicode = out.domain;
  out.address_literal = true;
  out.warnings.emplace_back("address literal");
  return {};
}

ParsedAddress invalid(std::string error) {
  ParsedAddress result;
  result.error = std::move(error);
  return result;
}

}  // namespace

std::string ParsedAddress::normalized() const {
  std::string text;
  text.reserve(local.size() + 1 + domain.size());
  text += local;
  text += '@';
  text += domain;
  return text;
}

ParsedAddress parse_address(std::string_view input) {
  if (input.empty()) return invalid("empty address");
  if (input.size() > kMaxAddressInputOctets) return invalid("input too long");
  if (input.front() == ' ' || input.back() == ' ') return invalid("leading or trailing space");

  bool has_non_ascii = false;
  std::string error = find_forbidden_character(input, has_non_ascii);
  if (!error.empty()) return invalid(std::move(error));
  if (input.front() == '<' || input.back() == '>') {
    return invalid("display names and angle brackets are not allowed");
  }

  LocalPart local =
      input.front() == '"' ? parse_quoted_local_part(input) : parse_dot_string_local_part(input);
  if (!local.error.empty()) return invalid(std::move(local.error));
  std::string normalized_local;
  error = normalize_local_part(input.substr(0, local.length), local.quoted, normalized_local);
  if (!error.empty()) return invalid(std::move(error));
  if (normalized_local.size() > kMaxLocalOctets) return invalid(kLocalTooLong);

  const std::string_view domain = input.substr(local.length + 1);
  if (domain.empty()) return invalid("missing domain");

  ParsedAddress result;
  error = domain.front() == '[' ? parse_address_literal(domain, result)
                                : parse_domain_name(domain, result);
  if (!error.empty()) return invalid(std::move(error));
  if (normalized_local.size() + 1 + result.domain.size() > kMaxMailboxOctets) {
    return invalid("address longer than 254 octets");
  }

  result.local = std::move(normalized_local);
  result.quoted_local = local.quoted;
  if (local.quoted) {
    result.warnings.emplace_back(result.local.size() == 2 ? "empty quoted local part"
                                                          : "quoted local part");
  }
  result.utf8_local = has_non_ascii && !is_ascii(result.local);
  result.valid = true;
  return result;
}

namespace {

// Byte classes of the fast path: bit 1 = atext (RFC 5322), bit 2 = LDH.
constexpr std::array<unsigned char, 256> kPlainClasses = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = 3;
  for (int c = '0'; c <= '9'; ++c) table[c] = 3;
  for (char c : std::string_view("!#$%&'*+/=?^_`{|}~")) table[static_cast<unsigned char>(c)] = 1;
  table['-'] = 3;
  return table;
}();

bool is_atext(char c) { return kPlainClasses[static_cast<unsigned char>(c)] & 1; }
bool is_ldh(char c) { return kPlainClasses[static_cast<unsigned char>(c)] & 2; }

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != b[i]) return false;
  return true;
}

// The common case without building anything: an ASCII dot-atom local part
// and an LDH domain of 2+ labels with no "--" (so no A-label), and a TLD that
// is not numeric, has no hyphen and is not special-use. True only where
// parse_address() says valid too; false means "not plainly valid: ask
// parse_address()".
bool plainly_valid(std::string_view input) {
  if (input.size() < 3 || input.size() > kMaxMailboxOctets) return false;
  const std::size_t at = input.find('@');
  if (at == std::string_view::npos || at == 0 || at > kMaxLocalOctets) return false;
  const std::string_view local = input.substr(0, at);
  const std::string_view domain = input.substr(at + 1);
  if (domain.empty() || domain.size() > kMaxDomainOctets) return false;

  if (local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    const char c = local[i];
    if (c == '.' ? local[i - 1] == '.' : !is_atext(c)) return false;
  }

  std::size_t label_start = 0;
  int labels = 0;
  std::string_view label;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i < domain.size() && domain[i] != '.') {
      if (!is_ldh(domain[i])) return false;
      continue;
    }
    label = domain.substr(label_start, i - label_start);
    if (label.empty() || label.size() > kMaxLabelOctets) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-') return false;
    ++labels;
    label_start = i + 1;
  }
  if (labels < 2 || is_all_digits(label) || label.find('-') != std::string_view::npos) return false;
  for (std::string_view special : kSpecialUseTlds)
    if (equals_ignoring_ascii_case(label, special)) return false;
  return true;
}

}  // namespace

bool is_valid_address(std::string_view input) {
  return plainly_valid(input) || parse_address(input).valid;
}

}  // namespace mailsentry
