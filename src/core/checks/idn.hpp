// Internationalised domain names via libidn2 (UTS #46 non-transitional,
// IDNA2008). Slow (~2.5 us per call): call only for domains with non-ASCII
// bytes or xn-- labels. Results are memoised per thread.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

// Why a conversion failed. Length failures are told apart so that the caller
// can report them like the same limits on an ASCII domain.
enum class IdnFailure {
  none,
  invalid,          // not a valid IDNA2008 / UTS #46 name: see `error`
  label_too_long,   // an A-label would be longer than 63 octets
  domain_too_long,  // the A-label form would be longer than 255 octets
};

struct IdnDomain {
  bool ok = false;
  IdnFailure failure = IdnFailure::none;
  std::string ascii;    // lower-case A-labels (on success)
  std::string unicode;  // U-labels for display (on success)
  std::string error;    // short English phrase (on failure)
};

// U-labels and/or A-labels in. A-labels in the input are decoded and checked
// too (libidn2 round-trips them). The caller still has to check the LDH
// syntax of `ascii`: UTS #46 may map characters to "." or ";".
IdnDomain convert_idn_domain(std::string_view domain);

}  // namespace mailsentry
