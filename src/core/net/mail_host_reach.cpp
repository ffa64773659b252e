#include "net/mail_host_reach.hpp"

#include "net/enum_text.hpp"

namespace mailsentry {

const char* describe(MailHostReach reach) {
  static constexpr EnumText<MailHostReach> kNames[] = {
      {MailHostReach::answered, "answered"},     {MailHostReach::no_address, "no address"},
      {MailHostReach::off_limits, "off limits"}, {MailHostReach::refused, "refused"},
      {MailHostReach::no_answer, "no answer"},   {MailHostReach::port25_blocked, "port 25 blocked"},
  };
  return enum_text(reach, kNames, "unknown");
}

MailHostReach merge_host_reach(MailHostReach earlier, MailHostReach now) {
  if (earlier == MailHostReach::answered || now == MailHostReach::answered)
    return MailHostReach::answered;
  if (earlier == MailHostReach::port25_blocked || now == MailHostReach::port25_blocked)
    return MailHostReach::port25_blocked;
  return earlier == now ? now : MailHostReach::no_answer;
}

MailHostReach summarise_reach(const std::vector<std::optional<MailHostReach>>& hosts) {
  bool any = false;
  bool all_no_address = true;
  bool all_definitive = true;  // no address, off limits or refused
  bool any_refused = false;
  bool any_blocked = false;
  for (const std::optional<MailHostReach>& host : hosts) {
    if (!host) continue;  // never tried
    any = true;
    switch (*host) {
      case MailHostReach::answered:
        return MailHostReach::answered;
      case MailHostReach::no_address:
        break;
      case MailHostReach::off_limits:
        all_no_address = false;
        break;
      case MailHostReach::refused:
        all_no_address = false;
        any_refused = true;
        break;
      case MailHostReach::port25_blocked:
        any_blocked = true;
        all_no_address = all_definitive = false;
        break;
      case MailHostReach::no_answer:
        all_no_address = all_definitive = false;
        break;
    }
  }
  if (!any) return MailHostReach::no_answer;
  if (any_blocked) return MailHostReach::port25_blocked;
  if (all_no_address) return MailHostReach::no_address;
  if (!all_definitive) return MailHostReach::no_answer;
  // Hosts without a usable address do not keep the others from "refused".
  return any_refused ? MailHostReach::refused : MailHostReach::off_limits;
}

}  // namespace mailsentry
