#include "tables/overrides_table.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"
}

#include <cstring>

#include "base/guard.hpp"
#include "tables/spi_fields.hpp"

namespace mailsentry::pg {

namespace {

void raise_guarded(const GuardResult& result) { raise_if_failed(result, "loading user overrides"); }

void select_all(const char* sql, const char* table) {
  if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: could not read %s", table)));
}

}  // namespace

OverrideTables find_override_tables() {
  const Oid schema = get_namespace_oid("mailsentry", true);
  if (!OidIsValid(schema)) return {InvalidOid, InvalidOid};
  return {get_relname_relid("list_overrides", schema),
          get_relname_relid("weight_overrides", schema)};
}

void apply_list_overrides(Lists& lists) {
  select_all(
      "SELECT list_name, lower(entry), action, coalesce(detail, '') "
      "FROM mailsentry.list_overrides",
      "mailsentry.list_overrides");
  SPITupleTable* table = SPI_tuptable;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple row = table->vals[i];
    TupleDesc desc = table->tupdesc;
    const char* list_name = database_text_field(row, desc, 1);
    const char* entry = database_text_field(row, desc, 2);
    const char* action = database_text_field(row, desc, 3);
    const char* detail = database_text_field(row, desc, 4);
    raise_guarded(run_guarded("list override", [&] {
      NamedList* list = lists.by_name(list_name);
      if (list == nullptr) return;  // the table's CHECK constraint keeps this from happening
      if (std::strcmp(action, "remove") == 0)
        list->remove(entry);
      else
        list->add(entry, detail);
    }));
  }
}

void apply_weight_overrides(Weights& weights) {
  select_all("SELECT name, points FROM mailsentry.weight_overrides", "mailsentry.weight_overrides");
  SPITupleTable* table = SPI_tuptable;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple row = table->vals[i];
    TupleDesc desc = table->tupdesc;
    const char* name = database_text_field(row, desc, 1);
    const NullableInt points = nullable_int4_field(row, desc, 2);
    if (!points.present) continue;
    raise_guarded(run_guarded("weight override", [&] { weights.set(name, points.value); }));
  }
}

}  // namespace mailsentry::pg
