#include "pipeline/worker_handoff.hpp"

extern "C" {
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
}

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "queue/request_queue.hpp"

namespace mailsentry::pg {

namespace {

// Inputs checked ahead of the queue: far more than a session's share of
// slots, so preparing the next window never leaves the queue idle for long.
constexpr std::size_t kPreparedWindow = 4096;

// Slots in flight, indices into batch.pending. Plain memory of the call's
// context, so the catch block below can give them back without C++.
struct InFlight {
  std::size_t* pending;
  int count;
};

// Hands pending address `index` to the worker in `slot`; the slot is given
// back when its request cannot be written.
void submit_pending(AddressBatch& batch, InFlight& flight, std::size_t index, int slot) {
  const GuardResult built = run_guarded(batch.options.submitting_point, [&] {
    const PendingAddress& p = batch.pending[index];
    request_to_pod(*batch.inputs[p.first_input].started->request, batch.request_pod);
  });
  if (built.failed) abandon_slot(slot);
  raise_if_failed(built, batch.options.entry_point);
  memcpy(&shared_queue->slots[slot].request, &batch.request_pod, sizeof batch.request_pod);
  submit_slot(slot);
  PendingAddress& p = batch.pending[index];
  p.slot = slot;
  p.submitted_at = GetCurrentTimestamp();
  flight.pending[flight.count++] = index;
}

// Finishes what was answered or timed out; true when something finished.
bool collect(AddressBatch& batch, ResultSink& sink, InFlight& flight) {
  bool progress = false;
  const TimestampTz now = GetCurrentTimestamp();
  for (int k = 0; k < flight.count;) {
    const std::size_t index = flight.pending[k];
    const PendingAddress& p = batch.pending[index];
    const NetworkFactsPod* facts = nullptr;
    if (slot_answered(p.slot)) {
      memcpy(&batch.answer_pod, &shared_queue->slots[p.slot].answer, sizeof batch.answer_pod);
      release_slot(p.slot);
      facts = &batch.answer_pod;
    } else if ((now - p.submitted_at) / 1000 >= effective_verify_timeout_ms()) {
      abandon_slot(p.slot);
      pg_atomic_fetch_add_u64(&shared_queue->stats.timeouts, 1);
    } else {
      ++k;
      continue;
    }
    flight.pending[k] = flight.pending[--flight.count];
    finish_pending(batch, sink, index, facts);
    progress = true;
  }
  return progress;
}

void wait_on_latch(long timeout_ms) {
  (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms,
                  PG_WAIT_EXTENSION);
  ResetLatch(MyLatch);
  CHECK_FOR_INTERRUPTS();
}

}  // namespace

void run_batch(AddressBatch& batch, ResultSink& sink) {
  // The checks' results are kept until an address is answered: preparing a
  // window at a time bounds that memory whatever the array's length.
  (void)prepare_next(batch, sink, kPreparedWindow);
  if (batch.pending.empty() && batch.prepared == batch.inputs.size()) return;
  require_worker_available();
  // In palloc'd memory: the catch block reads what the loop changed.
  InFlight& flight = *static_cast<InFlight*>(palloc0(sizeof(InFlight)));
  flight.pending =
      static_cast<std::size_t*>(palloc(sizeof(std::size_t) * shared_queue->slot_count));
  std::size_t next_to_submit = 0;
  TimestampTz worker_missing_since = 0;
  TimestampTz room_wanted_since = 0;
  PG_TRY();
  {
    while (batch.finished_pending < batch.pending.size() || batch.prepared < batch.inputs.size()) {
      if (next_to_submit == batch.pending.size() && batch.prepared < batch.inputs.size()) {
        (void)prepare_next(batch, sink, kPreparedWindow);
        continue;
      }
      for (int room = claimable_slots(); room > 0 && next_to_submit < batch.pending.size();
           --room) {
        const int slot = try_claim_slot();
        if (slot < 0) break;
        submit_pending(batch, flight, next_to_submit++, slot);
      }
      // Nothing in flight and no room: wait for a slot, up to queue_wait_timeout.
      const bool waiting_for_room = flight.count == 0 && next_to_submit < batch.pending.size();
      if (waiting_for_room) {
        if (room_wanted_since == 0) {
          room_wanted_since = GetCurrentTimestamp();
          pg_atomic_fetch_add_u64(&shared_queue->stats.queue_full_waits, 1);
        } else if ((GetCurrentTimestamp() - room_wanted_since) / 1000 >=
                   settings.queue_wait_timeout_ms) {
          report_queue_full(settings.queue_wait_timeout_ms);
        }
      } else {
        room_wanted_since = 0;
      }
      if (collect(batch, sink, flight)) continue;
      check_worker_alive(&worker_missing_since);
      // A freed slot sets no latch: look again soon while waiting for room.
      wait_on_latch(waiting_for_room ? 10 : 100);
    }
  }
  PG_CATCH();
  {
    for (int k = 0; k < flight.count; ++k) abandon_slot(batch.pending[flight.pending[k]].slot);
    flight.count = 0;
    PG_RE_THROW();
  }
  PG_END_TRY();
}

}  // namespace mailsentry::pg
