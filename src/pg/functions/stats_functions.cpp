// mailsentry.stats and mailsentry.mx_stats: what the queue and the worker do.
#include "base/postgres_headers.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "queue/request_queue.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(mailsentry_stats);
PG_FUNCTION_INFO_V1(mailsentry_mx_stats);
PG_FUNCTION_INFO_V1(mailsentry_registry_stats);
}

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

namespace {

void require_shared_queue() {
  if (shared_queue == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("mailsentry: statistics need the library in shared_preload_libraries")));
}

}  // namespace

extern "C" Datum mailsentry_stats(PG_FUNCTION_ARGS) {
  require_shared_queue();
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("mailsentry: stats() must return a row")));
  desc = BlessTupleDesc(desc);

  int64 queued = 0, in_flight = 0;
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    const SlotState state = current_slot_state(shared_queue->slots[i]);
    if (state == kSlotSubmitted)
      ++queued;
    else if (state == kSlotTaken)
      ++in_flight;
  }
  const uint32 worker_pid = pg_atomic_read_u32(&shared_queue->worker_pid);
  const char* state = !settings.enabled ? "disabled" : worker_pid != 0 ? "running" : "stopped";
  QueueStats& stats = shared_queue->stats;
  const auto counter = [](pg_atomic_uint64& value) {
    return Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&value)));
  };

  constexpr int kColumns = 19;
  Datum values[kColumns];
  bool nulls[kColumns] = {false};
  values[0] = CStringGetTextDatum(state);
  values[1] = Int32GetDatum(static_cast<int32>(worker_pid));
  nulls[1] = worker_pid == 0;
  values[2] = counter(shared_queue->worker_starts);
  values[3] = counter(stats.requests);
  values[4] = counter(stats.cache_hits);
  values[5] = counter(stats.completed);
  values[6] = Int64GetDatum(in_flight);
  values[7] = Int64GetDatum(queued);
  values[8] = counter(stats.timeouts);
  values[9] = counter(stats.errors);
  values[10] = counter(stats.queue_full_waits);
  values[11] = Int32GetDatum(shared_queue->slot_count);
  SpinLockAcquire(&shared_queue->mx_stats_lock);
  int64 sessions = 0;
  for (int i = 0; i < shared_queue->mx_stats_count; ++i)
    sessions += shared_queue->mx_stats[i].sessions_open;
  const WorkerHealthPod health = shared_queue->health;
  SpinLockRelease(&shared_queue->mx_stats_lock);
  values[12] = Int64GetDatum(sessions);
  values[13] = CStringGetTextDatum(health.outbound_smtp_blocked ? "blocked" : "ok");
  values[14] = Int64GetDatum(static_cast<int64>(health.outbound_smtp_blocked_episodes));
  values[15] = CStringGetTextDatum(health.resolver == ResolverView::sees_internet ? "sees_internet"
                                   : health.resolver == ResolverView::blind ? "cannot_see_internet"
                                                                            : "unknown");
  values[16] = Int64GetDatum(static_cast<int64>(health.resolver_blind_episodes));
  values[17] = Int32GetDatum(health.registry_breakers_open);
  values[18] = Int64GetDatum(static_cast<int64>(health.late_domain_ages));
  // Before ALTER EXTENSION UPDATE the catalog still declares 0.1's columns.
  if (desc->natts > kColumns)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("mailsentry: stats() declares more columns than this library knows")));
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

extern "C" Datum mailsentry_mx_stats(PG_FUNCTION_ARGS) {
  require_shared_queue();
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  // Copy under the spinlock, build rows after it (no allocation while held).
  MxStatsPod* copy = static_cast<MxStatsPod*>(palloc(sizeof(MxStatsPod) * kMaxMxStats));
  SpinLockAcquire(&shared_queue->mx_stats_lock);
  const int count = shared_queue->mx_stats_count;
  const TimestampTz at = shared_queue->mx_stats_at;
  memcpy(copy, shared_queue->mx_stats, sizeof(MxStatsPod) * count);
  SpinLockRelease(&shared_queue->mx_stats_lock);
  for (int i = 0; i < count; ++i) {
    const MxStatsPod& mx = copy[i];
    Datum values[8];
    bool nulls[8] = {false};
    values[0] = PointerGetDatum(utf8_to_text(mx.host.bytes, mx.host.size));
    values[1] = Int32GetDatum(mx.sessions_open);
    values[2] = Int32GetDatum(mx.queued);
    values[3] = Int64GetDatum(static_cast<int64>(mx.probes));
    values[4] = Int64GetDatum(static_cast<int64>(mx.timeouts));
    values[5] = Int64GetDatum(static_cast<int64>(mx.errors));
    values[6] = BoolGetDatum(mx.breaker_open);
    values[7] = TimestampTzGetDatum(at);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

extern "C" Datum mailsentry_registry_stats(PG_FUNCTION_ARGS) {
  require_shared_queue();
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  // Copy under the spinlock, build rows after it (no allocation while held).
  RegistryStatsPod* copy =
      static_cast<RegistryStatsPod*>(palloc(sizeof(RegistryStatsPod) * kMaxRegistryStats));
  SpinLockAcquire(&shared_queue->mx_stats_lock);
  const int count = shared_queue->registry_stats_count;
  const TimestampTz at = shared_queue->mx_stats_at;
  memcpy(copy, shared_queue->registry_stats, sizeof(RegistryStatsPod) * count);
  SpinLockRelease(&shared_queue->mx_stats_lock);
  for (int i = 0; i < count; ++i) {
    const RegistryStatsPod& registry = copy[i];
    Datum values[8];
    bool nulls[8] = {false};
    values[0] = PointerGetDatum(utf8_to_text(registry.server.bytes, registry.server.size));
    values[1] = CStringGetTextDatum(registry.whois ? "whois" : "rdap");
    values[2] = Int64GetDatum(static_cast<int64>(registry.lookups));
    values[3] = Int64GetDatum(static_cast<int64>(registry.failures));
    values[4] = BoolGetDatum(registry.breaker_open);
    values[5] = TimestampTzGetDatum(registry.open_until);
    nulls[5] = !registry.breaker_open;
    values[6] = Int64GetDatum(static_cast<int64>(registry.breaker_openings));
    values[7] = TimestampTzGetDatum(at);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

}  // namespace mailsentry::pg
