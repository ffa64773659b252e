#include "tables/domains_table.hpp"

#include <string>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include "base/fixed_text_datum.hpp"
#include "base/guard.hpp"
#include "base/settings.hpp"
#include "tables/spi_fields.hpp"
#include "tables/spi_statements.hpp"
#include "verdict/domain_facts_row.hpp"
#include "verdict/recent_writes.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

// How long domain facts stay valid: MX answers as long as a DNS answer of
// unknown TTL, catch-all status as the prober remembers it, a registration
// date for a month.
constexpr std::int64_t kCatchAllValidSeconds = 24 * 3600;
constexpr std::int64_t kCreatedValidSeconds = 30 * 86400;

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
KeptStatement domain_upsert = {"writing domain facts", kDomainUpsert, kDomainParams, kDomainTypes,
                               nullptr};

// One row as plain data (DomainFactsRow has no destructor).
void read_row(HeapTuple tuple, TupleDesc desc, DomainFactsRow& row) {
  memset(&row, 0, sizeof row);
  text_field(tuple, desc, 1, row.domain);
  row.mx_found = bool_field(tuple, desc, 2);
  row.implicit_mx = bool_field(tuple, desc, 3) == TriState::yes;
  row.mx_count = text_array_field(tuple, desc, 4, row.mx_records, kMaxMxRecords);
  row.mx_valid_ms = int8_field(tuple, desc, 5);
  row.catch_all = bool_field(tuple, desc, 6);
  row.catch_all_valid_ms = int8_field(tuple, desc, 7);
  text_field(tuple, desc, 8, row.registrable_domain);
  row.created_days = nullable_int4_field(tuple, desc, 9);
  row.created_valid_ms = int8_field(tuple, desc, 10);
}

}  // namespace

void write_domain_facts(const CacheWrite& w) {
  if (!w.domain.present) return;
  SpiParams<kDomainParams> p;
  const NetworkFactsPod& f = w.facts;
  p.text(0, w.domain);
  p.boolean(1, f.mx_found);
  p.set(2, BoolGetDatum(f.implicit_mx));
  p.set(3, fixed_text_array(f.mx_records, f.mx_record_count));
  p.set(4, TimestampTzGetDatum(w.checked_at));
  p.set(5,
        TimestampTzGetDatum(w.checked_at +
                            static_cast<std::int64_t>(settings.dns_default_ttl_s) * USECS_PER_SEC));
  p.boolean(6, f.catch_all);
  p.set(7, TimestampTzGetDatum(w.checked_at + kCatchAllValidSeconds * USECS_PER_SEC));
  p.text(8, w.registrable_domain);
  p.date(9, f.domain_created_days);
  p.set(10, TimestampTzGetDatum(w.checked_at + kCreatedValidSeconds * USECS_PER_SEC));
  if (w.mx_only)
    p.set_null(11);
  else
    p.set(11, BoolGetDatum(f.dnsbl_listed));
  execute_kept(domain_upsert, p.values, p.nulls);
}

std::uint64_t domain_facts_digest(const CacheWrite& w) {
  const NetworkFactsPod& f = w.facts;
  const auto text = [](const auto& fixed) {
    return fixed.present ? std::string_view(fixed.bytes, fixed.size) : std::string_view("\x01");
  };
  // The parameters of write_domain_facts but the domain (the key) and the
  // timestamps (derived from when it was checked).
  const char flags[] = {
      static_cast<char>(f.mx_found),  static_cast<char>(f.implicit_mx),
      static_cast<char>(f.catch_all), static_cast<char>(f.dnsbl_listed),
      static_cast<char>(w.mx_only),   static_cast<char>(f.domain_created_days.present)};
  std::uint64_t digest = digest_bytes(kDigestStart, std::string_view(flags, sizeof flags));
  if (f.domain_created_days.present)
    digest = digest_bytes(digest, std::to_string(f.domain_created_days.value));
  digest = digest_bytes(digest, text(w.registrable_domain));
  for (std::uint32_t i = 0; i < f.mx_record_count && i < kMaxMxRecords; ++i)
    digest = digest_bytes(digest, text(f.mx_records[i]));
  return digest;
}

void write_late_registration_date(std::string_view registrable_domain, std::int32_t created_days) {
  Oid types[] = {TEXTOID, DATEOID};
  SpiParams<2> p;
  p.set(0, PointerGetDatum(cstring_to_text_with_len(registrable_domain.data(),
                                                    static_cast<int>(registrable_domain.size()))));
  p.date(1, NullableInt{true, created_days});
  // Valid as long as a date found with the verdict (kCreatedValidSeconds).
  spi_run("writing a late registration date", SPI_OK_UPDATE,
          "UPDATE mailsentry.domains SET domain_created = $2, created_checked_at = now(), "
          "  created_expires_at = now() + interval '30 days', updated_at = now() "
          "WHERE registrable_domain = $1",
          2, types, p.values, p.nulls, false, 0);
}

void read_domain_facts(std::vector<KnownDomainFacts>& out) {
  spi_run("reading domain facts", SPI_OK_SELECT,
          "SELECT domain, mx_found, implicit_mx, mx_records, "
          "  (extract(epoch FROM mx_expires_at - now()) * 1000)::int8, catch_all, "
          "  (extract(epoch FROM catch_all_expires_at - now()) * 1000)::int8, "
          "  registrable_domain, (domain_created - date '1970-01-01'), "
          "  (extract(epoch FROM created_expires_at - now()) * 1000)::int8 "
          "FROM mailsentry.domains "
          "WHERE greatest(mx_expires_at, catch_all_expires_at, created_expires_at) > now()",
          0, nullptr, nullptr, nullptr, true, 0);
  SPITupleTable* table = SPI_tuptable;
  auto* row = static_cast<DomainFactsRow*>(palloc(sizeof(DomainFactsRow)));
  for (uint64 i = 0; i < SPI_processed; ++i) {
    read_row(table->vals[i], table->tupdesc, *row);
    raise_if_failed(
        run_guarded("restoring domain facts", [&out, row] { out.push_back(known_facts_of(*row)); }),
        "mailsentry worker");
  }
}

}  // namespace mailsentry::pg
