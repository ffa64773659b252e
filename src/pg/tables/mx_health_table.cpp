#include "tables/mx_health_table.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/timestamp.h"
}

#include "base/guard.hpp"
#include "base/text_encoding.hpp"
#include "tables/spi_fields.hpp"
#include "tables/spi_statements.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

const char* const kHealthUpsert =
    "INSERT INTO mailsentry.mx_health AS m (mx_host, probes, timeouts, errors, "
    "  circuit_breaker_open, circuit_breaker_open_until, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, now()) "
    "ON CONFLICT (mx_host) DO UPDATE SET probes = m.probes + EXCLUDED.probes, "
    "  timeouts = m.timeouts + EXCLUDED.timeouts, errors = m.errors + EXCLUDED.errors, "
    "  circuit_breaker_open = EXCLUDED.circuit_breaker_open, "
    "  circuit_breaker_open_until = EXCLUDED.circuit_breaker_open_until, updated_at = now()";

TimestampTz timestamp_of(std::chrono::system_clock::time_point at) {
  const std::int64_t unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  return unix_us -
         static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

// One open breaker, read as plain data (no destructor: safe on the stack).
struct BreakerRow {
  FixedText<256> host;
  std::int64_t remaining_ms;
};

}  // namespace

void write_mx_health(const std::vector<MxHealthChange>& changes) {
  Oid types[] = {TEXTOID, INT8OID, INT8OID, INT8OID, BOOLOID, TIMESTAMPTZOID};
  for (const MxHealthChange& change : changes) {
    SpiParams<6> p;
    p.text(0, change.host);
    p.set(1, Int64GetDatum(change.probes));
    p.set(2, Int64GetDatum(change.timeouts));
    p.set(3, Int64GetDatum(change.errors));
    p.set(4, BoolGetDatum(change.breaker_open));
    if (change.breaker_open)
      p.set(5, TimestampTzGetDatum(timestamp_of(change.breaker_open_until)));
    else
      p.set_null(5);
    spi_run("saving MX health", SPI_OK_INSERT, kHealthUpsert, 6, types, p.values, p.nulls, false,
            0);
  }
}

void read_open_breakers(std::vector<std::pair<std::string, std::chrono::milliseconds>>& out) {
  spi_run("reading MX health", SPI_OK_SELECT,
          "SELECT mx_host, (extract(epoch FROM circuit_breaker_open_until - now()) * 1000)::int8 "
          "FROM mailsentry.mx_health WHERE circuit_breaker_open_until > now()",
          0, nullptr, nullptr, nullptr, true, 0);
  SPITupleTable* table = SPI_tuptable;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    BreakerRow breaker_row;
    text_field(table->vals[i], table->tupdesc, 1, breaker_row.host);
    breaker_row.remaining_ms = int8_field(table->vals[i], table->tupdesc, 2);
    raise_if_failed(run_guarded("restoring MX health",
                                [&out, &breaker_row] {
                                  out.emplace_back(
                                      std::string(breaker_row.host.view()),
                                      std::chrono::milliseconds(breaker_row.remaining_ms));
                                }),
                    "mailsentry worker");
  }
}

}  // namespace mailsentry::pg
