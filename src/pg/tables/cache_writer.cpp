#include "tables/cache_writer.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <algorithm>

#include "base/fixed_text_datum.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "tables/spi_statements.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

const char* const kCacheUpsert =
    "INSERT INTO mailsentry.cache AS c (address, domain, depth, mx_found, implicit_mx, "
    "  mx_records, mx_provider, smtp_outcome, smtp_skipped_by_policy, catch_all, greylisted, "
    "  mx_host, smtp_code, smtp_message, domain_created, dnsbl_listed, warnings, inconclusive, "
    "  checked_at, expires_at, reprobe_at, reprobes, dead_domain) "
    "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "  $19, $20, $21, $22, $24 "
    "WHERE NOT $23 OR EXISTS (SELECT FROM mailsentry.cache WHERE address = $1 AND inconclusive) "
    "ON CONFLICT (address) DO UPDATE SET domain = EXCLUDED.domain, depth = EXCLUDED.depth, "
    "  mx_found = EXCLUDED.mx_found, implicit_mx = EXCLUDED.implicit_mx, "
    "  mx_records = EXCLUDED.mx_records, mx_provider = EXCLUDED.mx_provider, "
    "  smtp_outcome = EXCLUDED.smtp_outcome, "
    "  smtp_skipped_by_policy = EXCLUDED.smtp_skipped_by_policy, catch_all = EXCLUDED.catch_all, "
    "  greylisted = EXCLUDED.greylisted, mx_host = EXCLUDED.mx_host, "
    "  smtp_code = EXCLUDED.smtp_code, smtp_message = EXCLUDED.smtp_message, "
    "  domain_created = EXCLUDED.domain_created, dnsbl_listed = EXCLUDED.dnsbl_listed, "
    "  warnings = EXCLUDED.warnings, inconclusive = EXCLUDED.inconclusive, "
    "  checked_at = EXCLUDED.checked_at, expires_at = EXCLUDED.expires_at, "
    "  reprobe_at = EXCLUDED.reprobe_at, reprobes = EXCLUDED.reprobes, "
    "  dead_domain = EXCLUDED.dead_domain "
    "WHERE NOT $23 OR c.inconclusive";
const Oid kCacheTypes[] = {TEXTOID,        TEXTOID,      TEXTOID, BOOLOID,        BOOLOID,
                           TEXTARRAYOID,   TEXTOID,      TEXTOID, BOOLOID,        BOOLOID,
                           BOOLOID,        TEXTOID,      INT4OID, TEXTOID,        DATEOID,
                           BOOLOID,        TEXTARRAYOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
                           TIMESTAMPTZOID, INT4OID,      BOOLOID, TEXTOID};
constexpr int kCacheParams = sizeof kCacheTypes / sizeof kCacheTypes[0];
KeptStatement cache_upsert = {"writing the cache", kCacheUpsert, kCacheParams, kCacheTypes,
                              nullptr};

// Rows that were answered without the date: they get it (or the reason there
// is none) in place of the pending warning.
const char* const kLateDateUpdate =
    "UPDATE mailsentry.cache c SET domain_created = coalesce($2, c.domain_created), "
    "  warnings = array_remove(c.warnings, $3) "
    "    || CASE WHEN $2 IS NULL AND $4 <> '' THEN ARRAY['domain age unknown: ' || $4] "
    "       ELSE '{}'::text[] END "
    "WHERE (c.domain = $1 OR c.domain LIKE '%.' || $1) AND $3 = ANY (c.warnings)";

// Names are ASCII literals: the same bytes in every server encoding.
Datum name_datum(std::string_view name) {
  return PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size())));
}

// Dead domains get registered, and an inferred finding may pass: neither is
// kept as long as an answer.
std::int64_t cache_ttl_seconds(const CacheWrite& w) {
  const std::int64_t full = settings.cache_ttl_s;
  if (w.inconclusive) return settings.cache_ttl_inconclusive_s;
  const auto dead = static_cast<DeadDomain>(w.facts.dead_domain);
  if (dead == DeadDomain::refuses_smtp)
    return std::min<std::int64_t>(full, settings.cache_ttl_inconclusive_s);
  if (dead != DeadDomain::none || w.facts.mx_found == TriState::no)
    return std::min<std::int64_t>(full, settings.cache_ttl_dead_domain_s);
  return full;
}

}  // namespace

void write_cache_entry(const CacheWrite& w) {
  SpiParams<kCacheParams> p;
  const NetworkFactsPod& f = w.facts;
  p.text(0, w.address);
  p.text(1, w.domain);
  p.set(2, name_datum(depth_name(w.depth)));
  p.boolean(3, f.mx_found);
  p.set(4, BoolGetDatum(f.implicit_mx));
  p.set(5, fixed_text_array(f.mx_records, f.mx_record_count));
  p.text(6, f.mx_provider);
  p.set(7, name_datum(smtp_outcome_name(static_cast<SmtpOutcome>(f.smtp))));
  p.set(8, BoolGetDatum(f.smtp_skipped_by_policy));
  p.boolean(9, f.catch_all);
  p.set(10, BoolGetDatum(f.greylisted));
  p.text(11, f.mx_host);
  if (f.smtp_code.present)
    p.set(12, Int32GetDatum(f.smtp_code.value));
  else
    p.set_null(12);
  p.text(13, f.smtp_message);
  p.date(14, f.domain_created_days);
  p.set(15, BoolGetDatum(f.dnsbl_listed));
  p.set(16, fixed_text_array(f.warnings, f.warning_count));
  p.set(17, BoolGetDatum(w.inconclusive));
  p.set(18, TimestampTzGetDatum(w.checked_at));
  p.set(19, TimestampTzGetDatum(w.checked_at + cache_ttl_seconds(w) * USECS_PER_SEC));
  // An inconclusive answer is asked again in the background, a few times.
  if (w.inconclusive && w.reprobes < settings.reprobe_attempts)
    p.set(20,
          TimestampTzGetDatum(w.checked_at +
                              static_cast<std::int64_t>(settings.reprobe_delay_s) * USECS_PER_SEC));
  else
    p.set_null(20);
  p.set(21, Int32GetDatum(w.reprobes));
  p.set(22, BoolGetDatum(w.is_reprobe));
  const std::string_view dead = dead_domain_name(static_cast<DeadDomain>(f.dead_domain));
  if (dead.empty())
    p.set_null(23);
  else
    p.set(23, name_datum(dead));
  execute_kept(cache_upsert, p.values, p.nulls);
}

void write_late_registration_date_to_cache(std::string_view registrable_domain,
                                           NullableInt created_days, const char* pending_warning,
                                           std::string_view unknown_reason) {
  Oid types[] = {TEXTOID, DATEOID, TEXTOID, TEXTOID};
  SpiParams<4> p;
  p.set(0, PointerGetDatum(cstring_to_text_with_len(registrable_domain.data(),
                                                    static_cast<int>(registrable_domain.size()))));
  p.date(1, created_days);
  p.set(2, CStringGetTextDatum(pending_warning));
  p.set(3, PointerGetDatum(utf8_to_text(unknown_reason.data(), unknown_reason.size())));
  spi_run("writing a late registration date", SPI_OK_UPDATE, kLateDateUpdate, 4, types, p.values,
          p.nulls, false, 0);
}

std::uint64_t purge_expired_cache_entries(int limit) {
  Oid types[] = {INT4OID};
  Datum values[] = {Int32GetDatum(limit)};
  spi_run("purging the cache", SPI_OK_DELETE,
          "DELETE FROM mailsentry.cache WHERE ctid = ANY (ARRAY("
          "  SELECT ctid FROM mailsentry.cache WHERE expires_at <= now() LIMIT $1))",
          1, types, values, nullptr, false, 0);
  return SPI_processed;
}

}  // namespace mailsentry::pg
