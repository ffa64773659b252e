#include "request_queue.hpp"

extern "C" {
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

#include "settings.hpp"

namespace mailsentry::pg {

SharedQueue* shared_queue = nullptr;

namespace {

shmem_request_hook_type previous_shmem_request_hook = nullptr;
shmem_startup_hook_type previous_shmem_startup_hook = nullptr;
bool backend_cleanup_registered = false;

// Which backend owns a claimed slot, so its exit can give the slot back.
// Kept beside the slots (index-aligned) in shared memory.
pg_atomic_uint32* slot_owner = nullptr;

Size queue_size_bytes() {
  return add_size(offsetof(SharedQueue, slots),
                  mul_size(static_cast<Size>(settings.queue_size), sizeof(RequestSlot)));
}

Size owner_array_bytes() {
  return mul_size(static_cast<Size>(settings.queue_size), sizeof(pg_atomic_uint32));
}

void request_shared_memory() {
  if (previous_shmem_request_hook) previous_shmem_request_hook();
  RequestAddinShmemSpace(add_size(queue_size_bytes(), owner_array_bytes()));
}

void start_shared_memory() {
  if (previous_shmem_startup_hook) previous_shmem_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  shared_queue = static_cast<SharedQueue*>(
      ShmemInitStruct("mailsentry request queue", queue_size_bytes(), &found));
  bool owners_found = false;
  slot_owner = static_cast<pg_atomic_uint32*>(
      ShmemInitStruct("mailsentry slot owners", owner_array_bytes(), &owners_found));
  if (!found) {
    memset(shared_queue, 0, queue_size_bytes());
    pg_atomic_init_u32(&shared_queue->worker_pid, 0);
    pg_atomic_init_u64(&shared_queue->worker_starts, 0);
    pg_atomic_init_u32(&shared_queue->next_ticket, 1);
    pg_atomic_init_u64(&shared_queue->stats.requests, 0);
    pg_atomic_init_u64(&shared_queue->stats.completed, 0);
    pg_atomic_init_u64(&shared_queue->stats.cache_hits, 0);
    pg_atomic_init_u64(&shared_queue->stats.timeouts, 0);
    pg_atomic_init_u64(&shared_queue->stats.errors, 0);
    pg_atomic_init_u64(&shared_queue->stats.queue_full_waits, 0);
    SpinLockInit(&shared_queue->mx_stats_lock);
    shared_queue->slot_count = settings.queue_size;
    for (int i = 0; i < settings.queue_size; ++i) {
      pg_atomic_init_u32(&shared_queue->slots[i].state, kSlotFree);
      pg_atomic_init_u32(&slot_owner[i], 0);
    }
  }
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

// Gives a slot back whatever state it is in: the worker frees a slot it is
// working on when its answer arrives.
void abandon_slot(int index) {
  RequestSlot& slot = shared_queue->slots[index];
  pg_atomic_write_u32(&slot_owner[index], 0);
  for (;;) {
    uint32 state = pg_atomic_read_u32(&slot.state);
    uint32 next;
    switch (state) {
      case kSlotClaimed:
      case kSlotSubmitted:
      case kSlotDone: next = kSlotFree; break;
      case kSlotTaken: next = kSlotAbandoned; break;
      default: return;
    }
    if (pg_atomic_compare_exchange_u32(&slot.state, &state, next)) return;
  }
}

namespace {

// A backend that exits (FATAL, pg_terminate_backend) while it waits gives
// its slots back.
void release_slots_of_exiting_backend(int, Datum) {
  if (shared_queue == nullptr) return;
  const uint32 me = static_cast<uint32>(MyProcPid);
  for (int i = 0; i < shared_queue->slot_count; ++i)
    if (pg_atomic_read_u32(&slot_owner[i]) == me) abandon_slot(i);
}

void wake_worker() {
  if (pg_atomic_read_u32(&shared_queue->worker_pid) != 0 && shared_queue->worker != nullptr)
    SetLatch(&shared_queue->worker->procLatch);
}

long elapsed_ms(TimestampTz since) {
  return static_cast<long>((GetCurrentTimestamp() - since) / 1000);
}

}  // namespace

void install_shared_memory_hooks() {
  previous_shmem_request_hook = shmem_request_hook;
  shmem_request_hook = request_shared_memory;
  previous_shmem_startup_hook = shmem_startup_hook;
  shmem_startup_hook = start_shared_memory;
}

void require_worker_available() {
  if (shared_queue == nullptr)
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("mailsentry: the network checks need the library in shared_preload_libraries"),
             errhint("Add 'mailsentry' to shared_preload_libraries in postgresql.conf and restart "
                     "the server; email_check_offline() works without it.")));
  if (!settings.enabled)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("mailsentry: the network checks are switched off"),
                    errhint("Set mailsentry.enabled = on and reload the configuration.")));
}

int try_claim_slot() {
  if (!backend_cleanup_registered) {
    before_shmem_exit(release_slots_of_exiting_backend, 0);
    backend_cleanup_registered = true;
  }
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    RequestSlot& slot = shared_queue->slots[i];
    uint32 expected = kSlotFree;
    if (pg_atomic_read_u32(&slot.state) == kSlotFree &&
        pg_atomic_compare_exchange_u32(&slot.state, &expected, kSlotClaimed)) {
      pg_atomic_write_u32(&slot_owner[i], static_cast<uint32>(MyProcPid));
      slot.ticket = pg_atomic_fetch_add_u32(&shared_queue->next_ticket, 1);
      slot.requester = MyProc;
      return i;
    }
  }
  return -1;
}

int claim_slot(int wait_ms) {
  const TimestampTz started = GetCurrentTimestamp();
  bool counted_wait = false;
  for (;;) {
    const int claimed = try_claim_slot();
    if (claimed >= 0) return claimed;
    if (!counted_wait) {
      pg_atomic_fetch_add_u64(&shared_queue->stats.queue_full_waits, 1);
      counted_wait = true;
    }
    if (elapsed_ms(started) >= wait_ms)
      ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                      errmsg("mailsentry: the request queue stayed full for %d ms", wait_ms),
                      errhint("Raise mailsentry.queue_size (restart) or "
                              "mailsentry.queue_wait_timeout, or verify in smaller batches.")));
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
}

void submit_slot(int index) {
  pg_atomic_fetch_add_u64(&shared_queue->stats.requests, 1);
  // The exchange is a full barrier: the request is visible before the state.
  pg_atomic_exchange_u32(&shared_queue->slots[index].state, kSlotSubmitted);
  wake_worker();
}

bool slot_answered(int index) {
  if (pg_atomic_read_u32(&shared_queue->slots[index].state) != kSlotDone) return false;
  pg_read_barrier();
  return true;
}

void check_worker_alive(TimestampTz* missing_since) {
  if (pg_atomic_read_u32(&shared_queue->worker_pid) != 0) {
    *missing_since = 0;
    return;
  }
  if (*missing_since == 0) *missing_since = GetCurrentTimestamp();
  if (elapsed_ms(*missing_since) >= 1000)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("mailsentry: the background worker is not running"),
                    errhint("It restarts by itself after a failure; check the server log, and "
                            "that mailsentry.enabled is on.")));
}

bool wait_for_answer(int index, int timeout_ms) {
  const TimestampTz started = GetCurrentTimestamp();
  TimestampTz worker_missing_since = 0;
  volatile bool answered = false;
  PG_TRY();
  {
    for (;;) {
      if (slot_answered(index)) {
        answered = true;
        break;
      }
      check_worker_alive(&worker_missing_since);
      if (elapsed_ms(started) >= timeout_ms) {
        pg_atomic_fetch_add_u64(&shared_queue->stats.timeouts, 1);
        break;
      }
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
                      PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
    }
  }
  PG_CATCH();
  {
    abandon_slot(index);
    PG_RE_THROW();
  }
  PG_END_TRY();
  if (!answered) abandon_slot(index);
  return answered;
}

void release_slot(int index) {
  pg_atomic_write_u32(&slot_owner[index], 0);
  pg_atomic_exchange_u32(&shared_queue->slots[index].state, kSlotFree);
}

void worker_attach(PGPROC* worker) {
  // Requests a previous worker took but never answered are taken again;
  // slots whose backend gave up while that worker ran are freed.
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    RequestSlot& slot = shared_queue->slots[i];
    uint32 taken = kSlotTaken;
    if (!pg_atomic_compare_exchange_u32(&slot.state, &taken, kSlotSubmitted)) {
      uint32 abandoned = kSlotAbandoned;
      pg_atomic_compare_exchange_u32(&slot.state, &abandoned, kSlotFree);
    }
  }
  shared_queue->worker = worker;
  pg_atomic_fetch_add_u64(&shared_queue->worker_starts, 1);
  pg_atomic_exchange_u32(&shared_queue->worker_pid, static_cast<uint32>(MyProcPid));
}

void worker_detach() {
  if (shared_queue == nullptr) return;
  pg_atomic_exchange_u32(&shared_queue->worker_pid, 0);
}

void answer_taken_requests(const char* why) {
  if (shared_queue == nullptr) return;
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    RequestSlot& slot = shared_queue->slots[i];
    uint32 state = pg_atomic_read_u32(&slot.state);
    if (state == kSlotAbandoned) {
      pg_atomic_compare_exchange_u32(&slot.state, &state, kSlotFree);
      continue;
    }
    if (state != kSlotTaken) continue;
    memset(&slot.answer, 0, sizeof slot.answer);
    slot.answer.mx_found = TriState::null;
    slot.answer.unfinished = true;
    slot.answer.warning_count = 1;
    slot.answer.warnings[0].assign(why);
    // The exchange is a full barrier: the answer is visible before the state.
    uint32 taken = kSlotTaken;
    if (pg_atomic_compare_exchange_u32(&slot.state, &taken, kSlotDone)) {
      wake_requester(slot);
    } else if (taken == kSlotAbandoned) {
      pg_atomic_compare_exchange_u32(&slot.state, &taken, kSlotFree);
    }
  }
}

void wake_requester(RequestSlot& slot) {
  if (slot.requester != nullptr) SetLatch(&slot.requester->procLatch);
}

}  // namespace mailsentry::pg
