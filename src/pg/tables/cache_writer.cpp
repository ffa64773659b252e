#include "tables/cache_writer.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

#include <algorithm>

#include "base/fixed_text_datum.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"

namespace mailsentry::pg {

namespace {

// How long domain facts stay valid: MX answers as long as a DNS answer of
// unknown TTL, catch-all status as the prober remembers it, a registration
// date for a month.
constexpr std::int64_t kCatchAllValidSeconds = 24 * 3600;
constexpr std::int64_t kCreatedValidSeconds = 30 * 86400;

SPIPlanPtr cache_plan = nullptr;
SPIPlanPtr domain_plan = nullptr;

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

// Only what is known overwrites: a typo lookup brings an MX answer and
// nothing else, a timed-out probe no catch-all status.
const char* const kDomainUpsert =
    "INSERT INTO mailsentry.domains AS d (domain, mx_found, implicit_mx, mx_records, "
    "  mx_checked_at, mx_expires_at, catch_all, catch_all_checked_at, catch_all_expires_at, "
    "  registrable_domain, domain_created, created_checked_at, created_expires_at, "
    "  dnsbl_listed, updated_at) "
    "VALUES ($1, $2, $3, $4, CASE WHEN $2 IS NOT NULL THEN $5 END, "
    "  CASE WHEN $2 IS NOT NULL THEN $6 END, $7, CASE WHEN $7 IS NOT NULL THEN $5 END, "
    "  CASE WHEN $7 IS NOT NULL THEN $8 END, $9, $10, CASE WHEN $10 IS NOT NULL THEN $5 END, "
    "  CASE WHEN $10 IS NOT NULL THEN $11 END, $12, $5) "
    "ON CONFLICT (domain) DO UPDATE SET "
    "  mx_found = CASE WHEN EXCLUDED.mx_checked_at IS NULL THEN d.mx_found ELSE EXCLUDED.mx_found "
    "END, "
    "  implicit_mx = CASE WHEN EXCLUDED.mx_checked_at IS NULL THEN d.implicit_mx "
    "    ELSE EXCLUDED.implicit_mx END, "
    "  mx_records = CASE WHEN EXCLUDED.mx_checked_at IS NULL THEN d.mx_records "
    "    ELSE EXCLUDED.mx_records END, "
    "  mx_checked_at = coalesce(EXCLUDED.mx_checked_at, d.mx_checked_at), "
    "  mx_expires_at = coalesce(EXCLUDED.mx_expires_at, d.mx_expires_at), "
    "  catch_all = coalesce(EXCLUDED.catch_all, d.catch_all), "
    "  catch_all_checked_at = coalesce(EXCLUDED.catch_all_checked_at, d.catch_all_checked_at), "
    "  catch_all_expires_at = coalesce(EXCLUDED.catch_all_expires_at, d.catch_all_expires_at), "
    "  registrable_domain = coalesce(EXCLUDED.registrable_domain, d.registrable_domain), "
    "  domain_created = coalesce(EXCLUDED.domain_created, d.domain_created), "
    "  created_checked_at = coalesce(EXCLUDED.created_checked_at, d.created_checked_at), "
    "  created_expires_at = coalesce(EXCLUDED.created_expires_at, d.created_expires_at), "
    "  dnsbl_listed = coalesce(EXCLUDED.dnsbl_listed, d.dnsbl_listed), "
    "  updated_at = EXCLUDED.updated_at";
const Oid kDomainTypes[] = {TEXTOID,        BOOLOID,        BOOLOID,        TEXTARRAYOID,
                            TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID,        TIMESTAMPTZOID,
                            TEXTOID,        DATEOID,        TIMESTAMPTZOID, BOOLOID};
constexpr int kDomainParams = sizeof kDomainTypes / sizeof kDomainTypes[0];

SPIPlanPtr prepared(SPIPlanPtr& plan, const char* sql, int count, const Oid* types) {
  if (plan == nullptr) {
    SPIPlanPtr fresh = SPI_prepare(sql, count, const_cast<Oid*>(types));
    if (fresh == nullptr)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_prepare failed: %s",
                                                              SPI_result_code_string(SPI_result))));
    if (SPI_keepplan(fresh) != 0)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_keepplan failed")));
    plan = fresh;
  }
  return plan;
}

template <std::size_t N>
void put_text(Datum* values, char* nulls, int index, const FixedText<N>& text) {
  if (!text.present) {
    nulls[index] = 'n';
    return;
  }
  values[index] = PointerGetDatum(utf8_to_text(text.bytes, text.size));
}

void put_bool(Datum* values, char* nulls, int index, TriState value) {
  if (value == TriState::null)
    nulls[index] = 'n';
  else
    values[index] = BoolGetDatum(value == TriState::yes);
}

// Names are ASCII literals: the same bytes in every server encoding.
Datum name_datum(std::string_view name) {
  return PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size())));
}

Datum date_of_unix_days(std::int32_t days) {
  return DateADTGetDatum(days - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE));
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

void execute(SPIPlanPtr plan, Datum* values, char* nulls) {
  const int rc = SPI_execute_plan(plan, values, nulls, false, 0);
  if (rc != SPI_OK_INSERT && rc != SPI_OK_UPDATE)
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR),
             errmsg("mailsentry: writing the cache failed: %s", SPI_result_code_string(rc))));
}

}  // namespace

void write_cache_entry(const CacheWrite& w) {
  Datum values[kCacheParams];
  char nulls[kCacheParams];
  memset(values, 0, sizeof values);
  memset(nulls, ' ', sizeof nulls);
  const NetworkFactsPod& f = w.facts;
  put_text(values, nulls, 0, w.address);
  put_text(values, nulls, 1, w.domain);
  values[2] = name_datum(depth_name(static_cast<Depth>(w.depth)));
  put_bool(values, nulls, 3, f.mx_found);
  values[4] = BoolGetDatum(f.implicit_mx);
  values[5] = fixed_text_array(f.mx_records, f.mx_record_count);
  put_text(values, nulls, 6, f.mx_provider);
  values[7] = name_datum(smtp_outcome_name(static_cast<SmtpOutcome>(f.smtp)));
  values[8] = BoolGetDatum(f.smtp_skipped_by_policy);
  put_bool(values, nulls, 9, f.catch_all);
  values[10] = BoolGetDatum(f.greylisted);
  put_text(values, nulls, 11, f.mx_host);
  if (f.smtp_code.present)
    values[12] = Int32GetDatum(f.smtp_code.value);
  else
    nulls[12] = 'n';
  put_text(values, nulls, 13, f.smtp_message);
  if (f.domain_created_days.present)
    values[14] = date_of_unix_days(f.domain_created_days.value);
  else
    nulls[14] = 'n';
  values[15] = BoolGetDatum(f.dnsbl_listed);
  values[16] = fixed_text_array(f.warnings, f.warning_count);
  values[17] = BoolGetDatum(w.inconclusive);
  values[18] = TimestampTzGetDatum(w.checked_at);
  values[19] = TimestampTzGetDatum(w.checked_at + cache_ttl_seconds(w) * USECS_PER_SEC);
  // An inconclusive answer is asked again in the background, a few times.
  if (w.inconclusive && w.reprobes < settings.reprobe_attempts)
    values[20] = TimestampTzGetDatum(
        w.checked_at + static_cast<std::int64_t>(settings.reprobe_delay_s) * USECS_PER_SEC);
  else
    nulls[20] = 'n';
  values[21] = Int32GetDatum(w.reprobes);
  values[22] = BoolGetDatum(w.is_reprobe);
  const std::string_view dead = dead_domain_name(static_cast<DeadDomain>(f.dead_domain));
  if (dead.empty())
    nulls[23] = 'n';
  else
    values[23] = name_datum(dead);
  execute(prepared(cache_plan, kCacheUpsert, kCacheParams, kCacheTypes), values, nulls);
}

void write_domain_facts(const CacheWrite& w) {
  if (!w.domain.present) return;
  Datum values[kDomainParams];
  char nulls[kDomainParams];
  memset(values, 0, sizeof values);
  memset(nulls, ' ', sizeof nulls);
  const NetworkFactsPod& f = w.facts;
  put_text(values, nulls, 0, w.domain);
  put_bool(values, nulls, 1, f.mx_found);
  values[2] = BoolGetDatum(f.implicit_mx);
  values[3] = fixed_text_array(f.mx_records, f.mx_record_count);
  values[4] = TimestampTzGetDatum(w.checked_at);
  values[5] = TimestampTzGetDatum(
      w.checked_at + static_cast<std::int64_t>(settings.dns_default_ttl_s) * USECS_PER_SEC);
  put_bool(values, nulls, 6, f.catch_all);
  values[7] = TimestampTzGetDatum(w.checked_at + kCatchAllValidSeconds * USECS_PER_SEC);
  put_text(values, nulls, 8, w.registrable_domain);
  if (f.domain_created_days.present)
    values[9] = date_of_unix_days(f.domain_created_days.value);
  else
    nulls[9] = 'n';
  values[10] = TimestampTzGetDatum(w.checked_at + kCreatedValidSeconds * USECS_PER_SEC);
  if (w.mx_only)
    nulls[11] = 'n';
  else
    values[11] = BoolGetDatum(f.dnsbl_listed);
  execute(prepared(domain_plan, kDomainUpsert, kDomainParams, kDomainTypes), values, nulls);
}

void reset_cache_writer() {
  // Made again at the next write (the extension may have been re-created).
  if (cache_plan != nullptr) SPI_freeplan(cache_plan);
  if (domain_plan != nullptr) SPI_freeplan(domain_plan);
  cache_plan = nullptr;
  domain_plan = nullptr;
}

}  // namespace mailsentry::pg
