#include "tables/user_config.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

#include <memory>

#include "base/guard.hpp"

namespace mailsentry::pg {

namespace {

// Backend-local state. The unique_ptrs are globals, never on a stack a
// longjmp could skip.
std::unique_ptr<Lists> effective_lists;
std::unique_ptr<Weights> effective_weights;

Oid overrides_relid = InvalidOid;
Oid weights_relid = InvalidOid;
// Bumped by every relevant invalidation; a load is current only if no
// invalidation arrived while it ran.
uint64 invalidation_count = 1;
uint64 loaded_at_count = 0;
unsigned long long reload_count = 0;

void on_relcache_invalidation(Datum, Oid relid) {
  // Before the extension exists there is nothing to watch: any relation may
  // be the new override table.
  if (relid == InvalidOid || relid == overrides_relid || relid == weights_relid ||
      overrides_relid == InvalidOid)
    ++invalidation_count;
}

void raise_guarded(const GuardResult& result) { raise_if_failed(result, "loading user overrides"); }

const char* text_column(HeapTuple row, TupleDesc desc, int column) {
  char* value = SPI_getvalue(row, desc, column);
  return value ? value : "";
}

void load_list_overrides() {
  int rc = SPI_execute(
      "SELECT list_name, lower(entry), action, coalesce(detail, '') "
      "FROM mailsentry.list_overrides",
      true, 0);
  if (rc != SPI_OK_SELECT)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("mailsentry: could not read mailsentry.list_overrides")));
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple row = SPI_tuptable->vals[i];
    TupleDesc desc = SPI_tuptable->tupdesc;
    const char* list_name = text_column(row, desc, 1);
    const char* entry = text_column(row, desc, 2);
    const char* action = text_column(row, desc, 3);
    const char* detail = text_column(row, desc, 4);
    raise_guarded(run_guarded("list override", [&] {
      NamedList* list = effective_lists->by_name(list_name);
      if (list == nullptr) return;  // the table's CHECK constraint keeps this from happening
      if (std::strcmp(action, "remove") == 0)
        list->remove(entry);
      else
        list->add(entry, detail);
    }));
  }
}

void load_weight_overrides() {
  int rc = SPI_execute("SELECT name, points FROM mailsentry.weight_overrides", true, 0);
  if (rc != SPI_OK_SELECT)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("mailsentry: could not read mailsentry.weight_overrides")));
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple row = SPI_tuptable->vals[i];
    TupleDesc desc = SPI_tuptable->tupdesc;
    const char* name = text_column(row, desc, 1);
    bool is_null = false;
    int points = DatumGetInt32(SPI_getbinval(row, desc, 2, &is_null));
    if (is_null) continue;
    raise_guarded(run_guarded("weight override", [&] { effective_weights->set(name, points); }));
  }
}

}  // namespace

void register_user_config_invalidation() {
  CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum)0);
}

void ensure_user_config_current() {
  if (loaded_at_count == invalidation_count) return;
  const uint64 load_started_at = invalidation_count;

  raise_guarded(run_guarded("loading built-in lists", [] {
    if (!effective_lists) effective_lists = std::make_unique<Lists>(Lists::builtin());
    for (std::string_view name : Lists::names()) effective_lists->by_name(name)->clear_overrides();
    effective_weights = std::make_unique<Weights>();
  }));

  Oid schema = get_namespace_oid("mailsentry", true);
  overrides_relid = OidIsValid(schema) ? get_relname_relid("list_overrides", schema) : InvalidOid;
  weights_relid = OidIsValid(schema) ? get_relname_relid("weight_overrides", schema) : InvalidOid;

  if (OidIsValid(overrides_relid) && OidIsValid(weights_relid)) {
    if (SPI_connect() != SPI_OK_CONNECT)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_connect failed")));
    load_list_overrides();
    load_weight_overrides();
    SPI_finish();
  }
  loaded_at_count = load_started_at;
  ++reload_count;
}

unsigned long long user_config_version() { return reload_count; }

const Lists& current_lists() { return *effective_lists; }
const Weights& current_weights() { return *effective_weights; }

}  // namespace mailsentry::pg
