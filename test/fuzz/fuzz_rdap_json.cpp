// RDAP domain objects (JSON): rdap_registration_days().
//
// Checked beyond "no crash, no UB, no leak": a date found is a day in
// 1970-01-01 .. 3000-01-01.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "net/domain_age.hpp"
#include "net/registration_date.hpp"

using mailsentry::fuzz::invariant_broken;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const int kLast = *mailsentry::days_since_epoch(2999, 12, 31) + 1;
  const std::optional<int> days = mailsentry::rdap_registration_days(input);
  if (days && (*days < 0 || *days > kLast))
    invariant_broken("rdap_registration_days out of range", input, std::to_string(*days));
  return 0;
}
