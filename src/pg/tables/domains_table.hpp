// mailsentry.domains: what the worker learnt about each domain (MX answer,
// catch-all status, registration date), written with the verdicts and read
// back when the worker starts. Each call runs inside the caller's
// transaction with SPI connected, and may ereport.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/postgres_headers.hpp"
#include "net/known_domain_facts.hpp"
#include "tables/cache_writer.hpp"

namespace mailsentry::pg {

// The domain facts of one verdict; only what it knows overwrites.
void write_domain_facts(const CacheWrite& entry);
// What write_domain_facts(entry) would write, as a digest: equal digests
// write the same row (but for its timestamps).
std::uint64_t domain_facts_digest(const CacheWrite& entry);

// A registration date found after the verdicts that wanted it.
void write_late_registration_date(std::string_view registrable_domain, std::int32_t created_days);

// Appends the facts still valid to `out` (which must not live on the
// stack: an ereport would skip its destructor).
void read_domain_facts(std::vector<KnownDomainFacts>& out);

}  // namespace mailsentry::pg
