// mailsentry.mx_health: per-MX probe totals and circuit breakers, saved by
// the worker now and then; breakers still open are read back when it
// starts. Each call runs inside the caller's transaction with SPI connected,
// and may ereport.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/postgres_headers.hpp"
#include "verdict/mx_health_changes.hpp"

namespace mailsentry::pg {

// Adds the increments to the totals and sets each breaker as it is now.
void write_mx_health(const std::vector<MxHealthChange>& changes);

// Appends each open breaker with the time it has left to `out` (which must
// not live on the stack: an ereport would skip its destructor).
void read_open_breakers(std::vector<std::pair<std::string, std::chrono::milliseconds>>& out);

}  // namespace mailsentry::pg
