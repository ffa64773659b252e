// What a server offers in its EHLO reply, as far as a probe cares.
#pragma once

#include <string_view>

#include "net/smtp_reply.hpp"

namespace mailsentry {

struct SmtpCapabilities {
  bool esmtp = false;  // EHLO accepted
  bool pipelining = false;
  bool starttls = false;
  bool smtputf8 = false;
};

// Whether the EHLO keyword line starts with `keyword` (any case), followed
// by nothing, a space or '=' ("SIZE 35882577" is the keyword "SIZE").
bool ehlo_keyword_is(std::string_view line, std::string_view keyword);

// The capabilities a 250 EHLO reply lists (esmtp set); its first line is
// the greeting and names none.
SmtpCapabilities capabilities_from_ehlo(const SmtpReply& reply);

}  // namespace mailsentry
