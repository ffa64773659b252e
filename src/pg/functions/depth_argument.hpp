// The `depth` argument of the SQL verification functions.
#pragma once

#include "net/network_verifier.hpp"

namespace mailsentry::pg {

// The depth named by `text`; ERROR for an unknown name, echoing at most its
// first characters (the argument can be any size).
Depth depth_from_argument(const char* text);

}  // namespace mailsentry::pg
