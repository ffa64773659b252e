// WHOIS answers: whois_creation_days(), whois_referral() (whois.iana.org
// referrals), parse_whois_server() and the date parsers behind them
// (parse_loose_date_days(), parse_iso_date_days()).
//
// Checked beyond "no crash, no UB, no leak": a date found is a day in
// 1970-01-01 .. 3000-01-01 (years 1970..2999, plus one day that a negative
// UTC offset can add), and a WHOIS server accepted has a host and a port.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "net/domain_age.hpp"
#include "net/registration_date.hpp"
#include "net/whois_client.hpp"

using mailsentry::fuzz::invariant_broken;

namespace {

void check_days(const char* what, std::string_view input, std::optional<int> days) {
  static const int kLast = *mailsentry::days_since_epoch(2999, 12, 31) + 1;
  if (days && (*days < 0 || *days > kLast)) invariant_broken(what, input, std::to_string(*days));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  check_days("whois_creation_days out of range", input, mailsentry::whois_creation_days(input));
  check_days("parse_loose_date_days out of range", input, mailsentry::parse_loose_date_days(input));
  check_days("parse_iso_date_days out of range", input, mailsentry::parse_iso_date_days(input));

  const std::string referral = mailsentry::whois_referral(input);
  // Server specs: a referral read as one, and the first line (a setting).
  for (std::string_view spec : {std::string_view(referral), input.substr(0, input.find('\n'))}) {
    if (auto server = mailsentry::parse_whois_server(spec)) {
      if (server->host.empty()) invariant_broken("WHOIS server without a host", spec);
      if (server->port == 0) invariant_broken("WHOIS server with port 0", spec);
    }
  }
  return 0;
}
