// The local part of a mailbox: RFC 5321 Dot-string or Quoted-string, with
// the UTF-8 of RFC 6531, and its NFC form (RFC 6532 3.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailsentry {

struct LocalPartSyntax {
  std::size_t length = 0;  // octets as written, up to (not including) the "@"
  bool quoted = false;
  std::string error;
};

// `input` is the whole address; it starts with the '"' of a quoted string.
LocalPartSyntax parse_quoted_local_part(std::string_view input);
// `input` is the whole address, starting with an unquoted local part.
LocalPartSyntax parse_dot_string_local_part(std::string_view input);

// A UTF-8 local part travels in NFC, so it is checked and kept in that form.
// A code point whose NFC form is forbidden ASCII is refused like that
// character (U+037E GREEK QUESTION MARK is ';'), and the two spellings of one
// mailbox get one normalized form, hence one cache key. `written` is a local
// part that parsed; `local` receives its NFC form. Returns an error or "".
std::string normalize_local_part(std::string_view written, bool quoted, std::string& local);

}  // namespace mailsentry
