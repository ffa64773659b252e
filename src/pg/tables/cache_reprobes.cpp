#include "tables/cache_reprobes.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

#include "tables/spi_fields.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

DueReprobes lease_due_reprobes(int limit, int delay_s) {
  Oid types[] = {INT4OID, INT4OID};
  Datum values[] = {Int32GetDatum(delay_s), Int32GetDatum(limit)};
  spi_run("choosing re-probes", SPI_OK_UPDATE_RETURNING,
          "UPDATE mailsentry.cache c SET reprobe_at = now() + make_interval(secs => $1) "
          "FROM (SELECT address FROM mailsentry.cache WHERE reprobe_at <= now() "
          "      ORDER BY reprobe_at LIMIT $2 FOR UPDATE SKIP LOCKED) due "
          "WHERE c.address = due.address RETURNING c.address, c.depth, c.reprobes",
          2, types, values, nullptr, false, 0);
  const int rows = static_cast<int>(SPI_processed);
  DueReprobes out{rows, static_cast<DueReprobe*>(palloc0(sizeof(DueReprobe) * (rows + 1)))};
  TupleDesc desc = SPI_tuptable->tupdesc;
  for (int i = 0; i < rows; ++i) {
    HeapTuple tuple = SPI_tuptable->vals[i];
    DueReprobe& row = out.rows[i];
    text_field(tuple, desc, 1, row.address);
    row.depth = Depth::standard;
    // The table's CHECK allows only mailsentry.depth_names().
    (void)parse_depth(SPI_getvalue(tuple, desc, 2), row.depth);
    row.reprobes = int4_field(tuple, desc, 3);
  }
  return out;
}

}  // namespace mailsentry::pg
