// Internationalised domain names via libidn2 (UTS #46 non-transitional,
// IDNA2008). Slow (~2.5 us per call): call only for domains with non-ASCII
// bytes or xn-- labels. Results are memoised per thread.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

struct IdnDomain {
  bool ok = false;
  std::string ascii;    // lower-case A-labels (on success)
  std::string unicode;  // U-labels for display (on success)
  std::string error;    // short English phrase (on failure)
};

// U-labels and/or A-labels in. A-labels in the input are decoded and checked
// too (libidn2 round-trips them). The caller still has to check the LDH
// syntax of `ascii`: UTS #46 may map characters to "." or ";".
IdnDomain convert_idn_domain(std::string_view domain);

}  // namespace mailsentry
