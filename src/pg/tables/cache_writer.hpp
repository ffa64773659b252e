// The worker's writes of verdict facts (mailsentry.cache) and domain facts
// (mailsentry.domains). Each call runs inside the caller's transaction with
// SPI connected, and may ereport.
#pragma once

#include "base/postgres_headers.hpp"
#include "verdict/network_pod.hpp"

namespace mailsentry::pg {

struct CacheWrite {
  FixedText<400> address;  // normalized, UTF-8
  FixedText<256> domain;
  FixedText<256> registrable_domain;
  std::uint8_t depth;  // Depth
  bool mx_only;        // a typo domain: only its MX was looked up
  NetworkFactsPod facts;
  bool inconclusive;
  TimestampTz checked_at;
  std::int32_t reprobes;   // background re-probes so far
  bool is_reprobe;         // only upgrades an inconclusive entry that is still there
  bool with_domain_facts;  // the batch's latest answer for its domain: write_domain_facts()
};

void write_cache_entry(const CacheWrite& entry);
void write_domain_facts(const CacheWrite& entry);

// Forgets the prepared statements (after an error aborted their transaction).
void reset_cache_writer();

}  // namespace mailsentry::pg
