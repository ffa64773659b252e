#include "checks/syntax_rules.hpp"

namespace mailsentry {

std::string describe_bad_char(char c, AddressPart part) {
  // Comments and display names are the same mistake on either side of the "@".
  if (c == '(' || c == ')') return "comments are not allowed";
  if (c == '<' || c == '>') return kNoDisplayNames;
  if (part == AddressPart::local) {
    if (c == ' ') return "unquoted space in local part";
    if (c == '"') return "quote character inside an unquoted local part";
    if (c == '\\') return "backslash outside a quoted string";
  } else {
    if (c == '@') return "more than one @";
    if (c == ' ') return "space in domain";
    if (c == '[' || c == ']') return "address literal must be the whole domain";
  }
  std::string text = "invalid character '";
  text += c;
  text += part == AddressPart::local ? "' in local part" : "' in domain";
  return text;
}

}  // namespace mailsentry
