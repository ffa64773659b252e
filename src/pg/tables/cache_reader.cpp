// Reads one mailsentry.cache entry by a direct index scan: no SPI, no plan,
// no permission check (the functions that call this are not granted to
// PUBLIC), and the latest committed state rather than the caller's snapshot.
#include "tables/cache_table.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include "base/text_encoding.hpp"
#include "tables/spi_fields.hpp"
#include "verdict/verification_steps.hpp"

namespace mailsentry::pg {

namespace {

const char* const kCacheColumnNames[kCacheColumnCount] = {
    "address",      "domain",       "depth",
    "mx_found",     "implicit_mx",  "mx_records",
    "mx_provider",  "smtp_outcome", "smtp_skipped_by_policy",
    "catch_all",    "greylisted",   "mx_host",
    "smtp_code",    "smtp_message", "domain_created",
    "dnsbl_listed", "warnings",     "inconclusive",
    "checked_at",   "expires_at",   "reprobe_at",
    "reprobes",     "dead_domain"};

Oid checked_relation = InvalidOid;  // the cache table whose layout was checked

// The OIDs of the cache and its index, looked up once per backend and again
// when the relations are gone or renamed (extension dropped and re-created).
Oid cache_schema_oid = InvalidOid;
Oid cache_oid = InvalidOid;
Oid cache_index_oid = InvalidOid;

bool is_relation(Relation rel, const char* name) {
  return strcmp(RelationGetRelationName(rel), name) == 0 &&
         RelationGetNamespace(rel) == cache_schema_oid;
}

bool look_up_cache_oids() {
  const Oid schema = get_namespace_oid("mailsentry", true);
  cache_schema_oid = schema;
  if (!OidIsValid(schema)) return false;
  cache_oid = get_relname_relid("cache", schema);
  cache_index_oid = get_relname_relid("cache_pkey", schema);
  return OidIsValid(cache_oid) && OidIsValid(cache_index_oid);
}

void check_layout(Relation rel) {
  if (RelationGetRelid(rel) == checked_relation) return;
  TupleDesc desc = RelationGetDescr(rel);
  bool ok = desc->natts == kCacheColumnCount;
  for (int i = 0; ok && i < kCacheColumnCount; ++i)
    ok = strcmp(NameStr(TupleDescAttr(desc, i)->attname), kCacheColumnNames[i]) == 0;
  if (!ok)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("mailsentry: table mailsentry.cache does not have the columns this "
                           "library expects"),
                    errhint("Run ALTER EXTENSION mailsentry UPDATE.")));
  checked_relation = RelationGetRelid(rel);
}

// Text columns holding a name: compared as they are (ASCII in every encoding).
std::string_view name_of(Datum value) {
  text* t = DatumGetTextPP(value);
  return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

void decode(TupleTableSlot* slot, CacheEntry& out) {
  slot_getallattrs(slot);
  const Datum* v = slot->tts_values - 1;  // 1-based, like the column numbers
  const bool* n = slot->tts_isnull - 1;
  NetworkFactsPod& f = out.facts;
  // Every field is written below (arrays up to their counts), so the 4 KB of
  // plain data are not zeroed first: this runs once per cache hit.
  f.dead_domain = 0;
  f.domain_age_pending = false;
  f.unfinished = false;
  out.depth = Depth::standard;
  (void)parse_depth(name_of(v[kCacheDepth]), out.depth);
  f.mx_found = bool_value(v[kCacheMxFound], n[kCacheMxFound]);
  f.implicit_mx = !n[kCacheImplicitMx] && DatumGetBool(v[kCacheImplicitMx]);
  f.mx_record_count =
      text_array_value(v[kCacheMxRecords], n[kCacheMxRecords], f.mx_records, kMaxMxRecords);
  text_value(v[kCacheMxProvider], n[kCacheMxProvider], f.mx_provider);
  f.smtp = static_cast<std::uint8_t>(smtp_outcome_from_name(name_of(v[kCacheSmtpOutcome])));
  f.smtp_skipped_by_policy =
      !n[kCacheSmtpSkippedByPolicy] && DatumGetBool(v[kCacheSmtpSkippedByPolicy]);
  f.catch_all = bool_value(v[kCacheCatchAll], n[kCacheCatchAll]);
  f.greylisted = !n[kCacheGreylisted] && DatumGetBool(v[kCacheGreylisted]);
  text_value(v[kCacheMxHost], n[kCacheMxHost], f.mx_host);
  if (n[kCacheSmtpCode])
    f.smtp_code.set_null();
  else
    f.smtp_code.set(DatumGetInt32(v[kCacheSmtpCode]));
  text_value(v[kCacheSmtpMessage], n[kCacheSmtpMessage], f.smtp_message);
  if (n[kCacheDomainCreated]) {
    f.domain_created_days.set_null();
    f.domain_age_days.set_null();
  } else {
    const std::int32_t created =
        DatumGetDateADT(v[kCacheDomainCreated]) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
    f.domain_created_days.set(created);
    f.domain_age_days.set(today_unix_days() - created);
  }
  f.dnsbl_listed = !n[kCacheDnsblListed] && DatumGetBool(v[kCacheDnsblListed]);
  if (!n[kCacheDeadDomain])
    f.dead_domain = static_cast<std::uint8_t>(dead_domain_from_name(name_of(v[kCacheDeadDomain])));
  f.warning_count =
      text_array_value(v[kCacheWarnings], n[kCacheWarnings], f.warnings, kMaxWarnings);
  out.inconclusive = !n[kCacheInconclusive] && DatumGetBool(v[kCacheInconclusive]);
  out.checked_at = DatumGetTimestampTz(v[kCacheCheckedAt]);
  out.expires_at = DatumGetTimestampTz(v[kCacheExpiresAt]);
}

// Opens the cache and its index (AccessShareLock); false when there is none.
bool open_cache(Relation& table, Relation& index) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1 || !OidIsValid(cache_oid)) {
      if (!look_up_cache_oids()) return false;
    }
    table = try_table_open(cache_oid, AccessShareLock);
    if (table == nullptr) continue;
    if (!is_relation(table, "cache")) {
      table_close(table, AccessShareLock);
      continue;
    }
    index = try_index_open(cache_index_oid, AccessShareLock);
    if (index != nullptr && is_relation(index, "cache_pkey")) {
      check_layout(table);
      return true;
    }
    if (index != nullptr) index_close(index, AccessShareLock);
    table_close(table, AccessShareLock);
  }
  return false;
}

}  // namespace

bool cache_entry_serves(const CacheEntry& entry, Depth depth) {
  return entry.expires_at > GetCurrentTimestamp() && depth_rank(entry.depth) >= depth_rank(depth);
}

std::int32_t today_unix_days() {
  return static_cast<std::int32_t>(GetCurrentTransactionStartTimestamp() / USECS_PER_DAY) +
         (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
}

bool read_cache_entry(const char* address, std::size_t length, CacheEntry& out) {
  Relation table = nullptr;
  Relation index = nullptr;
  if (!open_cache(table, index)) return false;
  // As last committed: entries the worker wrote since the statement began
  // count. In parallel mode (a parallel worker, or the leader of a parallel
  // plan) no new snapshot may be taken: the statement's serves there.
  Snapshot snapshot =
      RegisterSnapshot(IsInParallelMode() ? GetActiveSnapshot() : GetLatestSnapshot());
  ScanKeyData key;
  ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ,
              PointerGetDatum(utf8_to_text(address, length)));
  key.sk_collation = index->rd_indcollation[0];
  IndexScanDesc scan = index_beginscan(table, index, snapshot, 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  TupleTableSlot* slot = table_slot_create(table, nullptr);
  const bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
  if (found) decode(slot, out);
  ExecDropSingleTupleTableSlot(slot);
  index_endscan(scan);
  UnregisterSnapshot(snapshot);
  index_close(index, AccessShareLock);
  table_close(table, AccessShareLock);
  return found;
}

}  // namespace mailsentry::pg
