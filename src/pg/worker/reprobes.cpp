#include "worker/reprobes.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "tables/spi_fields.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/verification_steps.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr int kReprobesInFlight = 100;

// Globals: no C++ object on a stack that an ereport could unwind.
Verification scratch;

// Rows of the current re-probe batch, copied out of SPI's memory.
struct ReprobeRow {
  FixedText<400> address;
  std::uint8_t depth;
  std::int32_t reprobes;
};
ReprobeRow reprobe_row;

void reprobe_body() {
  if (!mailsentry_relations_exist({"cache"})) return;
  const int room = kReprobesInFlight - static_cast<int>(internal_in_flight(InternalKind::reprobe));
  if (room <= 0) return;
  // The row is leased for one delay: a crash before the answer only delays it.
  Oid types[] = {INT4OID, INT4OID};
  Datum values[] = {Int32GetDatum(settings.reprobe_delay_s), Int32GetDatum(room)};
  spi_run("choosing re-probes", SPI_OK_UPDATE_RETURNING,
          "UPDATE mailsentry.cache c SET reprobe_at = now() + make_interval(secs => $1) "
          "FROM (SELECT address FROM mailsentry.cache WHERE reprobe_at <= now() "
          "      ORDER BY reprobe_at LIMIT $2 FOR UPDATE SKIP LOCKED) due "
          "WHERE c.address = due.address RETURNING c.address, c.depth, c.reprobes",
          2, types, values, nullptr, false, 0);
  TupleDesc desc = SPI_tuptable->tupdesc;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple tuple = SPI_tuptable->vals[i];
    text_field(tuple, desc, 1, reprobe_row.address);
    const char* depth = SPI_getvalue(tuple, desc, 2);
    Depth parsed = Depth::standard;
    (void)parse_depth(depth, parsed);
    reprobe_row.depth = static_cast<std::uint8_t>(parsed);
    bool isnull;
    reprobe_row.reprobes = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
    raise_if_failed(run_guarded("re-probing",
                                [] {
                                  const std::optional<NetworkRequest> request = start_verification(
                                      reprobe_row.address.view(),
                                      static_cast<Depth>(reprobe_row.depth),
                                      make_probe_settings(settings), current_lists(), scratch);
                                  if (!request) return;
                                  InternalRequest internal;
                                  internal.kind = InternalKind::reprobe;
                                  internal.meta.reprobes = reprobe_row.reprobes + 1;
                                  internal.meta.is_reprobe = true;
                                  submit_internal(std::move(internal), *request);
                                }),
                    "mailsentry worker");
  }
}

}  // namespace

void reprobe_due_entries() {
  if (settings.reprobe_attempts > 0) (void)run_in_transaction("re-probing", reprobe_body);
}

}  // namespace mailsentry::pg
