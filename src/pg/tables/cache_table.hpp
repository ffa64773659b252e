// mailsentry.cache as this library reads and writes it: its column numbers
// (checked against the catalog) and the plain-data form of one entry.
#pragma once

#include "base/postgres_headers.hpp"
#include "verdict/network_pod.hpp"

namespace mailsentry::pg {

// Columns of mailsentry.cache, in table order (mailsentry--*.sql).
enum CacheColumn {
  kCacheAddress = 1,
  kCacheDomain,
  kCacheDepth,
  kCacheMxFound,
  kCacheImplicitMx,
  kCacheMxRecords,
  kCacheMxProvider,
  kCacheSmtpOutcome,
  kCacheSmtpSkippedByPolicy,
  kCacheCatchAll,
  kCacheGreylisted,
  kCacheMxHost,
  kCacheSmtpCode,
  kCacheSmtpMessage,
  kCacheDomainCreated,
  kCacheDnsblListed,
  kCacheWarnings,
  kCacheInconclusive,
  kCacheCheckedAt,
  kCacheExpiresAt,
  kCacheReprobeAt,
  kCacheReprobes,
  kCacheDeadDomain,  // added in 0.2
  kCacheColumnCount = kCacheDeadDomain
};

struct CacheEntry {
  Depth depth;
  NetworkFactsPod facts;
  bool inconclusive;
  TimestampTz checked_at;
  TimestampTz expires_at;
};

// Looks `address` (normalized, UTF-8) up in mailsentry.cache as last
// committed, whatever the caller's snapshot or privileges: the cache is a
// side channel of the worker, not part of the caller's transaction. False
// when there is no entry or no cache table (extension being created or
// dropped). Must run inside a transaction.
bool read_cache_entry(const char* address, std::size_t length, CacheEntry& out);

// Whether `entry` answers a request of `depth` now: not expired, and at
// least as deep (quick < standard < extended).
bool cache_entry_serves(const CacheEntry& entry, Depth depth);

// Days since 1970-01-01 of today (for the age of a cached creation date).
std::int32_t today_unix_days();

}  // namespace mailsentry::pg
