// The worker's writes to mailsentry.cache: verdict facts, registration
// dates that came late, and the purge of expired entries. Each call runs
// inside the caller's transaction with SPI connected, and may ereport.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/postgres_headers.hpp"
#include "verdict/network_pod.hpp"

namespace mailsentry::pg {

struct CacheWrite {
  FixedText<400> address;  // normalized, UTF-8
  FixedText<256> domain;
  FixedText<256> registrable_domain;
  Depth depth;
  bool mx_only;  // a typo domain: only its MX was looked up
  NetworkFactsPod facts;
  bool inconclusive;
  TimestampTz checked_at;
  std::int32_t reprobes;   // background re-probes so far
  bool is_reprobe;         // only upgrades an inconclusive entry that is still there
  bool with_domain_facts;  // the batch's latest answer for its domain: write_domain_facts()
};

void write_cache_entry(const CacheWrite& entry);

// The entries of `registrable_domain` and its subdomains still waiting for
// its registration date (they carry `pending_warning`) get the date, or
// `unknown_reason` in a warning when there is none.
void write_late_registration_date_to_cache(std::string_view registrable_domain,
                                           NullableInt created_days, const char* pending_warning,
                                           std::string_view unknown_reason);

// Deletes up to `limit` expired entries; returns how many.
std::uint64_t purge_expired_cache_entries(int limit);

}  // namespace mailsentry::pg
