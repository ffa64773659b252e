#include "worker/cache_maintenance.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/timestamp.h"
}

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "net/known_domain_facts.hpp"
#include "tables/cache_writer.hpp"
#include "tables/spi_fields.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr int kPurgeBatch = 1000;

// Globals: no C++ object on a stack that an ereport could unwind.
std::vector<KnownDomainFacts> restored;
bool purge_batch_was_full = false;

struct CounterSnapshot {
  std::uint64_t probes = 0, timeouts = 0, errors = 0;
  bool breaker_open = false;
};
std::vector<std::pair<std::string, std::chrono::milliseconds>> open_breakers;
std::unordered_map<std::string, CounterSnapshot> saved_health;

// One row of mailsentry.domains in plain data.
struct DomainRow {
  FixedText<256> domain;
  TriState mx_found;
  bool implicit_mx;
  std::uint32_t mx_count;
  FixedText<256> mx_records[kMaxMxRecords];
  std::int64_t mx_valid_ms;
  TriState catch_all;
  std::int64_t catch_all_valid_ms;
  FixedText<256> registrable_domain;
  NullableInt created_days;
  std::int64_t created_valid_ms;
};
DomainRow row;

std::optional<bool> optional_bool(TriState value) {
  if (value == TriState::null) return std::nullopt;
  return value == TriState::yes;
}

// One open breaker of mailsentry.mx_health in plain data.
struct BreakerRow {
  FixedText<256> host;
  std::int64_t remaining_ms;
};
BreakerRow breaker_row;

void restore_breakers_body() {
  spi_run("reading MX health", SPI_OK_SELECT,
          "SELECT mx_host, (extract(epoch FROM circuit_breaker_open_until - now()) * 1000)::int8 "
          "FROM mailsentry.mx_health WHERE circuit_breaker_open_until > now()",
          0, nullptr, nullptr, nullptr, true, 0);
  TupleDesc desc = SPI_tuptable->tupdesc;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple tuple = SPI_tuptable->vals[i];
    text_field(tuple, desc, 1, breaker_row.host);
    breaker_row.remaining_ms = int8_field(tuple, desc, 2);
    raise_if_failed(run_guarded("restoring MX health",
                                [] {
                                  open_breakers.emplace_back(
                                      std::string(breaker_row.host.view()),
                                      std::chrono::milliseconds(breaker_row.remaining_ms));
                                }),
                    "mailsentry worker");
  }
}

void restore_body() {
  if (!mailsentry_relations_exist({"domains", "mx_health"})) return;
  restore_breakers_body();
  spi_run("reading domain facts", SPI_OK_SELECT,
          "SELECT domain, mx_found, implicit_mx, mx_records, "
          "  (extract(epoch FROM mx_expires_at - now()) * 1000)::int8, catch_all, "
          "  (extract(epoch FROM catch_all_expires_at - now()) * 1000)::int8, "
          "  registrable_domain, (domain_created - date '1970-01-01'), "
          "  (extract(epoch FROM created_expires_at - now()) * 1000)::int8 "
          "FROM mailsentry.domains "
          "WHERE greatest(mx_expires_at, catch_all_expires_at, created_expires_at) > now()",
          0, nullptr, nullptr, nullptr, true, 0);
  TupleDesc desc = SPI_tuptable->tupdesc;
  for (uint64 i = 0; i < SPI_processed; ++i) {
    HeapTuple tuple = SPI_tuptable->vals[i];
    memset(&row, 0, sizeof row);
    text_field(tuple, desc, 1, row.domain);
    row.mx_found = bool_field(tuple, desc, 2);
    row.implicit_mx = bool_field(tuple, desc, 3) == TriState::yes;
    bool isnull;
    const Datum records = SPI_getbinval(tuple, desc, 4, &isnull);
    if (!isnull) {
      Datum* elements;
      bool* nulls;
      int count;
      deconstruct_array(DatumGetArrayTypeP(records), TEXTOID, -1, false, TYPALIGN_INT, &elements,
                        &nulls, &count);
      for (int k = 0; k < count && row.mx_count < kMaxMxRecords; ++k) {
        if (nulls[k]) continue;
        const Utf8Text utf8 = text_as_utf8(DatumGetTextPP(elements[k]));
        row.mx_records[row.mx_count++].assign(std::string_view(utf8.data, utf8.size));
      }
    }
    row.mx_valid_ms = int8_field(tuple, desc, 5);
    row.catch_all = bool_field(tuple, desc, 6);
    row.catch_all_valid_ms = int8_field(tuple, desc, 7);
    text_field(tuple, desc, 8, row.registrable_domain);
    const Datum created = SPI_getbinval(tuple, desc, 9, &isnull);
    if (isnull)
      row.created_days.set_null();
    else
      row.created_days.set(DatumGetInt32(created));
    row.created_valid_ms = int8_field(tuple, desc, 10);
    raise_if_failed(
        run_guarded("restoring domain facts",
                    [] {
                      KnownDomainFacts facts;
                      facts.domain = std::string(row.domain.view());
                      if (row.mx_found != TriState::null && row.mx_valid_ms > 0) {
                        KnownDomainFacts::Mx mx;
                        mx.mx_found = optional_bool(row.mx_found);
                        mx.implicit_mx = row.implicit_mx;
                        for (std::uint32_t k = 0; k < row.mx_count; ++k)
                          mx.mx_records.emplace_back(row.mx_records[k].view());
                        mx.valid_for = std::chrono::milliseconds(row.mx_valid_ms);
                        facts.mx = std::move(mx);
                      }
                      if (row.catch_all != TriState::null && row.catch_all_valid_ms > 0) {
                        facts.catch_all = optional_bool(row.catch_all);
                        facts.catch_all_valid_for =
                            std::chrono::milliseconds(row.catch_all_valid_ms);
                      }
                      if (row.registrable_domain.present && row.created_days.present &&
                          row.created_valid_ms > 0) {
                        facts.registrable_domain = std::string(row.registrable_domain.view());
                        facts.domain_created_days = row.created_days.value;
                        facts.domain_age_valid_for =
                            std::chrono::milliseconds(row.created_valid_ms);
                      }
                      restored.push_back(std::move(facts));
                    }),
        "mailsentry worker");
  }
}

void purge_body() {
  if (!mailsentry_relations_exist({"cache"})) return;
  Oid types[] = {INT4OID};
  Datum values[] = {Int32GetDatum(kPurgeBatch)};
  spi_run("purging the cache", SPI_OK_DELETE,
          "DELETE FROM mailsentry.cache WHERE ctid = ANY (ARRAY("
          "  SELECT ctid FROM mailsentry.cache WHERE expires_at <= now() LIMIT $1))",
          1, types, values, nullptr, false, 0);
  purge_batch_was_full = SPI_processed >= static_cast<uint64>(kPurgeBatch);
}

// The engine's per-MX counters since it started, as increments over what was saved.
struct HealthRow {
  FixedText<256> host;
  std::int64_t probes, timeouts, errors;
  bool breaker_open;
  TimestampTz breaker_open_until;  // 0 when closed
};

TimestampTz timestamp_of(std::chrono::system_clock::time_point at) {
  const std::int64_t unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  return unix_us -
         static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}
std::vector<HealthRow> health_rows;

void health_body() {
  if (!mailsentry_relations_exist({"mx_health"})) return;
  Oid types[] = {TEXTOID, INT8OID, INT8OID, INT8OID, BOOLOID, TIMESTAMPTZOID};
  for (const HealthRow& h : health_rows) {
    Datum values[] = {PointerGetDatum(utf8_to_text(h.host.bytes, h.host.size)),
                      Int64GetDatum(h.probes),
                      Int64GetDatum(h.timeouts),
                      Int64GetDatum(h.errors),
                      BoolGetDatum(h.breaker_open),
                      TimestampTzGetDatum(h.breaker_open_until)};
    const char nulls[] = {' ', ' ', ' ', ' ', ' ', h.breaker_open ? ' ' : 'n'};
    spi_run(
        "saving MX health", SPI_OK_INSERT,
        "INSERT INTO mailsentry.mx_health AS m (mx_host, probes, timeouts, errors, "
        "  circuit_breaker_open, circuit_breaker_open_until, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now()) "
        "ON CONFLICT (mx_host) DO UPDATE SET probes = m.probes + EXCLUDED.probes, "
        "  timeouts = m.timeouts + EXCLUDED.timeouts, errors = m.errors + EXCLUDED.errors, "
        "  circuit_breaker_open = EXCLUDED.circuit_breaker_open, "
        "  circuit_breaker_open_until = EXCLUDED.circuit_breaker_open_until, updated_at = now()",
        6, types, values, nulls, false, 0);
  }
}

}  // namespace

void restore_domain_facts() {
  (void)run_guarded("restoring domain facts", [] {
    restored.clear();
    open_breakers.clear();
  });
  if (!run_in_transaction("restoring domain facts", restore_body)) return;
  const GuardResult result = run_guarded("restoring domain facts", [] {
    worker_engine()->restore(std::move(restored));
    worker_engine()->restore_breakers(std::move(open_breakers));
    restored.clear();
    open_breakers.clear();
  });
  if (result.failed)
    ereport(WARNING, (errcode(result.sqlstate), errmsg("mailsentry worker: %s", result.message)));
}

bool purge_expired_entries() {
  purge_batch_was_full = false;
  (void)run_in_transaction("purging the cache", purge_body);
  return purge_batch_was_full;
}

void save_mx_health(bool with_counters) {
  const GuardResult collected = run_guarded("saving MX health", [with_counters] {
    health_rows.clear();
    for (const auto& mx : worker_engine()->stats().mx) {
      CounterSnapshot& saved = saved_health[mx.host];
      const bool counters_changed =
          mx.probes != saved.probes || mx.timeouts != saved.timeouts || mx.errors != saved.errors;
      // A breaker that opened or closed is saved at once, counters now and then.
      if (mx.breaker_open == saved.breaker_open && !(with_counters && counters_changed)) continue;
      HealthRow h{};
      h.host.assign(mx.host);
      h.probes = static_cast<std::int64_t>(mx.probes - saved.probes);
      h.timeouts = static_cast<std::int64_t>(mx.timeouts - saved.timeouts);
      h.errors = static_cast<std::int64_t>(mx.errors - saved.errors);
      h.breaker_open = mx.breaker_open;
      h.breaker_open_until = mx.breaker_open ? timestamp_of(mx.breaker_open_until) : 0;
      health_rows.push_back(h);
      saved = {mx.probes, mx.timeouts, mx.errors, mx.breaker_open};
    }
  });
  if (collected.failed || health_rows.empty()) return;
  (void)run_in_transaction("saving MX health", health_body);
}

}  // namespace mailsentry::pg
