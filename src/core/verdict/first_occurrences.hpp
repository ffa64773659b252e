// A list of addresses taken once each: which inputs come first with their
// exact text. verify_emails(distinct => true) and mailsentry.submit verify
// exact duplicates once.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace mailsentry {

// The indexes of `texts` whose text has not occurred before, in order.
std::vector<std::size_t> first_occurrences(const std::vector<std::string_view>& texts);

}  // namespace mailsentry
