// Disposable (throw-away) mail domains.
#pragma once

#include <string_view>

#include "checks/lists.hpp"

namespace mailsentry {

// The domain or any parent domain is on the disposable list and not on the allowlist.
bool is_disposable_domain(std::string_view ascii_domain, const Lists& lists);

}  // namespace mailsentry
