#include "net/smtp_capabilities.hpp"

#include <string>

namespace mailsentry {

bool ehlo_keyword_is(std::string_view line, std::string_view keyword) {
  if (line.size() < keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != keyword[i]) return false;
  }
  return line.size() == keyword.size() || line[keyword.size()] == ' ' ||
         line[keyword.size()] == '=';
}

SmtpCapabilities capabilities_from_ehlo(const SmtpReply& reply) {
  SmtpCapabilities capabilities;
  capabilities.esmtp = true;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    const std::string& line = reply.lines[i];
    if (ehlo_keyword_is(line, "PIPELINING")) capabilities.pipelining = true;
    if (ehlo_keyword_is(line, "STARTTLS")) capabilities.starttls = true;
    if (ehlo_keyword_is(line, "SMTPUTF8")) capabilities.smtputf8 = true;
  }
  return capabilities;
}

}  // namespace mailsentry
