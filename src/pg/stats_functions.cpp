// mailsentry.stats and mailsentry.mx_stats: what the queue and the worker do.
#include "postgres_headers.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include "request_queue.hpp"
#include "settings.hpp"
#include "text_encoding.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(mailsentry_stats);
PG_FUNCTION_INFO_V1(mailsentry_mx_stats);
}

using namespace mailsentry::pg;

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
    const uint32 state = pg_atomic_read_u32(&shared_queue->slots[i].state);
    if (state == kSlotSubmitted) ++queued;
    else if (state == kSlotTaken || state == kSlotAbandoned) ++in_flight;
  }
  const uint32 worker_pid = pg_atomic_read_u32(&shared_queue->worker_pid);
  const char* state = !settings.enabled ? "disabled" : worker_pid != 0 ? "running" : "stopped";
  QueueStats& stats = shared_queue->stats;
  const auto counter = [](pg_atomic_uint64& value) {
    return Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&value)));
  };

  Datum values[13];
  bool nulls[13] = {false};
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
  SpinLockRelease(&shared_queue->mx_stats_lock);
  values[12] = Int64GetDatum(sessions);
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
