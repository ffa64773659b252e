// Address syntax: parse_address(), is_valid_address() and normalized().
//
// Invariants (a broken one traps, so libFuzzer keeps the input):
// - the fast path agrees: is_valid_address(x) == parse_address(x).valid;
// - an invalid result says why (error is not empty);
// - for a valid address, the normalised form n = normalized():
//   has no control byte (< 0x20 or 0x7f), is valid itself, normalises to
//   itself (normalising is idempotent), and the fast path accepts it too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "checks/syntax.hpp"
#include "fuzz_check.hpp"

using mailsentry::fuzz::has_control_byte;
using mailsentry::fuzz::invariant_broken;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const mailsentry::ParsedAddress parsed = mailsentry::parse_address(input);
  if (mailsentry::is_valid_address(input) != parsed.valid)
    invariant_broken("is_valid_address(x) != parse_address(x).valid", input);
  if (!parsed.valid) {
    if (parsed.error.empty()) invariant_broken("invalid address without an error", input);
    return 0;
  }

  const std::string normalized = parsed.normalized();
  if (has_control_byte(normalized))
    invariant_broken("normalized form has a control byte", input, normalized);

  const mailsentry::ParsedAddress again = mailsentry::parse_address(normalized);
  if (!again.valid)
    invariant_broken(("normalized form is invalid: " + again.error).c_str(), input, normalized);
  const std::string twice = again.normalized();
  if (twice != normalized)
    invariant_broken("normalize(normalize(x)) != normalize(x)", normalized, twice);
  if (!mailsentry::is_valid_address(normalized))
    invariant_broken("is_valid_address(normalized) is false", input, normalized);
  return 0;
}
