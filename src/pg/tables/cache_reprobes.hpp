// The re-probe lease on mailsentry.cache rows: which inconclusive verdicts are
// due to be verified again. Part of the cache table module; PostgreSQL side,
// inside a worker transaction with SPI connected.
#pragma once

#include <cstdint>

#include "base/postgres_headers.hpp"
#include "net/network_verifier.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry::pg {

struct DueReprobe {
  FixedText<400> address;
  Depth depth;
  std::int32_t reprobes;  // done so far
};

struct DueReprobes {
  int count;
  DueReprobe* rows;  // palloc'd in the current memory context
};

// Leases up to `limit` due rows for `delay_s` seconds (a crash before the
// answer only delays them) and returns them, oldest first.
DueReprobes lease_due_reprobes(int limit, int delay_s);

}  // namespace mailsentry::pg
