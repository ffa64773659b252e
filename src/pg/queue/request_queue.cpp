#include "queue/request_queue.hpp"

extern "C" {
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

#include "base/settings.hpp"

namespace mailsentry::pg {

SharedQueue* shared_queue = nullptr;

namespace {

shmem_request_hook_type previous_shmem_request_hook = nullptr;
shmem_startup_hook_type previous_shmem_startup_hook = nullptr;
bool backend_cleanup_registered = false;
// Slots this backend holds (claimed and not yet released or given back).
int slots_held = 0;

Size queue_size_bytes() {
  return add_size(offsetof(SharedQueue, slots),
                  mul_size(static_cast<Size>(settings.queue_size), sizeof(RequestSlot)));
}

void request_shared_memory() {
  if (previous_shmem_request_hook) previous_shmem_request_hook();
  RequestAddinShmemSpace(queue_size_bytes());
}

void start_shared_memory() {
  if (previous_shmem_startup_hook) previous_shmem_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  shared_queue = static_cast<SharedQueue*>(
      ShmemInitStruct("mailsentry request queue", queue_size_bytes(), &found));
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
    SpinLockInit(&shared_queue->role_lock);
    shared_queue->slot_count = settings.queue_size;
    for (int i = 0; i < settings.queue_size; ++i) {
      pg_atomic_init_u64(&shared_queue->slots[i].word, slot_word(0, kSlotFree));
      pg_atomic_init_u32(&shared_queue->slots[i].owner_pid, 0);
    }
  }
  LWLockRelease(AddinShmemInitLock);
}

// Moves `slot` from `from` to `to` if it still holds `from`.
bool transition(RequestSlot& slot, uint64 from, uint64 to) {
  return pg_atomic_compare_exchange_u64(&slot.word, &from, to);
}

int role_cap() { return Min(settings.queue_slots_per_role, shared_queue->slot_count); }

// Reserves one slot of `role`'s share: false when the role holds its cap.
// Sets `counted` when the role has an entry (else it goes uncounted).
bool reserve_role_share(Oid role, bool* counted) {
  const int cap = role_cap();
  bool reserved = true;
  *counted = false;
  SpinLockAcquire(&shared_queue->role_lock);
  RoleShare* entry = nullptr;
  RoleShare* unused = nullptr;
  for (RoleShare& share : shared_queue->role_shares) {
    if (share.held > 0 && share.role == role)
      entry = &share;
    else if (share.held == 0 && unused == nullptr)
      unused = &share;
  }
  if (entry == nullptr && unused != nullptr) {
    unused->role = role;
    entry = unused;
  }
  if (entry != nullptr) {
    if (entry->held >= cap)
      reserved = false;
    else {
      ++entry->held;
      *counted = true;
    }
  }
  SpinLockRelease(&shared_queue->role_lock);
  return reserved;
}

void release_role_share(Oid role) {
  SpinLockAcquire(&shared_queue->role_lock);
  for (RoleShare& share : shared_queue->role_shares)
    if (share.held > 0 && share.role == role) {
      --share.held;
      break;
    }
  SpinLockRelease(&shared_queue->role_lock);
}

int role_room(Oid role) {
  int held = 0;
  SpinLockAcquire(&shared_queue->role_lock);
  for (const RoleShare& share : shared_queue->role_shares)
    if (share.held > 0 && share.role == role) held = share.held;
  SpinLockRelease(&shared_queue->role_lock);
  return role_cap() - held;
}

}  // namespace

// Gives a slot back whatever state it is in, at once. A request the worker
// took stays with the worker, which still caches its verdict; the ticket in
// the word makes its late answer miss the slot.
void abandon_slot(int index) {
  RequestSlot& slot = shared_queue->slots[index];
  // Exactly once per claim, and only by its owner: the owner's exit hook may
  // race a normal release, and a slot given back is soon another's.
  uint32 owner = static_cast<uint32>(MyProcPid);
  if (!pg_atomic_compare_exchange_u32(&slot.owner_pid, &owner, 0)) return;
  if (slots_held > 0) --slots_held;
  if (slot.owner_role != InvalidOid) release_role_share(slot.owner_role);
  for (;;) {
    const uint64 word = pg_atomic_read_u64(&slot.word);
    if (slot_state(word) == kSlotFree) return;
    if (transition(slot, word, slot_word(slot_ticket(word), kSlotFree))) return;
  }
}

namespace {

// A backend that exits (FATAL, pg_terminate_backend) gives its slots back.
void release_slots_of_exiting_backend(int, Datum) {
  if (shared_queue == nullptr) return;
  const uint32 me = static_cast<uint32>(MyProcPid);
  for (int i = 0; i < shared_queue->slot_count; ++i)
    if (pg_atomic_read_u32(&shared_queue->slots[i].owner_pid) == me) abandon_slot(i);
}

void wake_worker() {
  if (pg_atomic_read_u32(&shared_queue->worker_pid) != 0 && shared_queue->worker != nullptr)
    SetLatch(&shared_queue->worker->procLatch);
}

void wake_requester(RequestSlot& slot) {
  if (slot.requester != nullptr) SetLatch(&slot.requester->procLatch);
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

namespace {

bool queue_has_free_slot() {
  for (int i = 0; i < shared_queue->slot_count; ++i)
    if (current_slot_state(shared_queue->slots[i]) == kSlotFree) return true;
  return false;
}

}  // namespace

int claimable_slots() {
  const int backend_cap = Min(settings.queue_slots_per_backend, shared_queue->slot_count);
  return Max(Min(backend_cap - slots_held, role_room(GetSessionUserId())), 0);
}

int try_claim_slot() {
  if (!backend_cleanup_registered) {
    before_shmem_exit(release_slots_of_exiting_backend, 0);
    backend_cleanup_registered = true;
  }
  if (slots_held >= Min(settings.queue_slots_per_backend, shared_queue->slot_count)) return -1;
  const Oid role = GetSessionUserId();
  bool counted = false;
  if (!reserve_role_share(role, &counted)) return -1;
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    RequestSlot& slot = shared_queue->slots[i];
    const uint64 word = pg_atomic_read_u64(&slot.word);
    if (slot_state(word) != kSlotFree) continue;
    uint32 ticket = pg_atomic_fetch_add_u32(&shared_queue->next_ticket, 1);
    if (ticket == 0) ticket = pg_atomic_fetch_add_u32(&shared_queue->next_ticket, 1);  // 0: none
    if (!transition(slot, word, slot_word(ticket, kSlotClaimed))) continue;
    slot.owner_role = counted ? role : InvalidOid;
    slot.requester = MyProc;
    pg_atomic_write_u32(&slot.owner_pid, static_cast<uint32>(MyProcPid));
    ++slots_held;
    return i;
  }
  if (counted) release_role_share(role);
  return -1;
}

void report_queue_full(int wait_ms) {
  if (claimable_slots() == 0 && queue_has_free_slot())
    ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                    errmsg("mailsentry: this session's share of the request queue stayed full "
                           "for %d ms",
                           wait_ms),
                    errdetail("A session holds at most mailsentry.queue_slots_per_backend (%d) "
                              "requests, the sessions of one login role at most "
                              "mailsentry.queue_slots_per_role (%d).",
                              settings.queue_slots_per_backend, settings.queue_slots_per_role),
                    errhint("Verify in fewer sessions at once, or ask a superuser to raise the "
                            "caps.")));
  ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                  errmsg("mailsentry: the request queue stayed full for %d ms", wait_ms),
                  errhint("Raise mailsentry.queue_size (restart) or "
                          "mailsentry.queue_wait_timeout, or verify in smaller batches.")));
}

void submit_slot(int index) {
  RequestSlot& slot = shared_queue->slots[index];
  pg_atomic_fetch_add_u64(&shared_queue->stats.requests, 1);
  // The exchange is a full barrier: the request is visible before the state.
  const uint64 word = pg_atomic_read_u64(&slot.word);
  pg_atomic_exchange_u64(&slot.word, slot_word(slot_ticket(word), kSlotSubmitted));
  wake_worker();
}

bool slot_answered(int index) {
  if (current_slot_state(shared_queue->slots[index]) != kSlotDone) return false;
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

void release_slot(int index) { abandon_slot(index); }

void worker_attach(PGPROC* worker) {
  // Requests a previous worker took but never answered are taken again.
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    RequestSlot& slot = shared_queue->slots[i];
    const uint64 word = pg_atomic_read_u64(&slot.word);
    if (slot_state(word) == kSlotTaken)
      (void)transition(slot, word, slot_word(slot_ticket(word), kSlotSubmitted));
  }
  shared_queue->worker = worker;
  pg_atomic_fetch_add_u64(&shared_queue->worker_starts, 1);
  pg_atomic_exchange_u32(&shared_queue->worker_pid, static_cast<uint32>(MyProcPid));
}

void worker_detach() {
  if (shared_queue == nullptr) return;
  pg_atomic_exchange_u32(&shared_queue->worker_pid, 0);
}

uint32 worker_take(int index) {
  RequestSlot& slot = shared_queue->slots[index];
  const uint64 word = pg_atomic_read_u64(&slot.word);
  if (slot_state(word) != kSlotSubmitted) return 0;
  const uint32 ticket = slot_ticket(word);
  if (!transition(slot, word, slot_word(ticket, kSlotTaken))) return 0;
  pg_read_barrier();
  return ticket;
}

RequestSlot* slot_awaiting_answer(int index, uint32 ticket) {
  if (index < 0 || index >= shared_queue->slot_count) return nullptr;
  RequestSlot& slot = shared_queue->slots[index];
  return pg_atomic_read_u64(&slot.word) == slot_word(ticket, kSlotTaken) ? &slot : nullptr;
}

bool publish_answer(int index, uint32 ticket) {
  RequestSlot& slot = shared_queue->slots[index];
  // The exchange is a full barrier: the answer is visible before the state.
  if (!transition(slot, slot_word(ticket, kSlotTaken), slot_word(ticket, kSlotDone))) return false;
  wake_requester(slot);
  return true;
}

void answer_empty(int index, uint32 ticket, const char* why) {
  RequestSlot* slot = slot_awaiting_answer(index, ticket);
  if (slot == nullptr) return;
  memset(&slot->answer, 0, sizeof slot->answer);
  slot->answer.mx_found = TriState::null;
  slot->answer.unfinished = true;
  slot->answer.warning_count = 1;
  slot->answer.warnings[0].assign(why);
  (void)publish_answer(index, ticket);
}

void answer_taken_requests(const char* why) {
  if (shared_queue == nullptr) return;
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    const uint64 word = pg_atomic_read_u64(&shared_queue->slots[i].word);
    if (slot_state(word) == kSlotTaken) answer_empty(i, slot_ticket(word), why);
  }
}

}  // namespace mailsentry::pg
