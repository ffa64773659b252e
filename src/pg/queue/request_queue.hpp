// The queue between backends and the worker, in shared memory: a fixed array
// of request slots whose state moves by atomic compare-and-swap. Backends
// claim a slot, publish a request and sleep on their latch; the worker takes
// requests, and writes answers back and sets the requester's latch.
//
//   free -> claimed (backend fills) -> submitted -> taken (worker) -> done
//   any state -> free   the backend gives up (cancel, timeout, exit): at once
//   taken -> submitted  a new worker takes over a dead worker's requests
//
// The state shares one 64-bit word with the ticket of the claim, so every
// transition names the claim it is for: the worker keeps what it took (and
// still caches its verdict) after the backend gave the slot up, and its late
// answer for an old ticket never lands in a slot claimed again since.
#pragma once

#include <type_traits>

#include "base/postgres_headers.hpp"
#include "verdict/network_pod.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/spin.h"
}

namespace mailsentry::pg {

enum SlotState : uint32 {
  kSlotFree = 0,
  kSlotClaimed,
  kSlotSubmitted,
  kSlotTaken,
  kSlotDone,
};

struct RequestSlot {
  pg_atomic_uint64 word;       // ticket << 32 | SlotState
  pg_atomic_uint32 owner_pid;  // the claiming backend, 0 when free
  Oid owner_role;              // its login role, counted in role_shares; else InvalidOid
  PGPROC* requester;
  NetworkRequestPod request;
  NetworkFactsPod answer;
};

inline SlotState slot_state(uint64 word) { return static_cast<SlotState>(word & 0xffffffffu); }
inline uint32 slot_ticket(uint64 word) { return static_cast<uint32>(word >> 32); }
inline uint64 slot_word(uint32 ticket, SlotState state) {
  return (static_cast<uint64>(ticket) << 32) | state;
}
inline SlotState current_slot_state(RequestSlot& slot) {
  return slot_state(pg_atomic_read_u64(&slot.word));
}

struct QueueStats {
  pg_atomic_uint64 requests;
  pg_atomic_uint64 completed;
  pg_atomic_uint64 cache_hits;
  pg_atomic_uint64 timeouts;
  pg_atomic_uint64 errors;
  pg_atomic_uint64 queue_full_waits;
};

// Per-MX figures the worker publishes about once a second (mailsentry.mx_stats).
constexpr int kMaxMxStats = 64;
struct MxStatsPod {
  FixedText<256> host;
  int32 sessions_open;
  int32 queued;
  uint64 probes;
  uint64 timeouts;
  uint64 errors;
  bool breaker_open;
};

// What the worker sees of its surroundings, published with the MX figures
// (mailsentry.stats, mailsentry.registry_stats).
enum class ResolverView : std::int8_t { unknown, sees_internet, blind };
struct WorkerHealthPod {
  bool outbound_smtp_blocked;
  uint64 outbound_smtp_blocked_episodes;
  ResolverView resolver;
  uint64 resolver_blind_episodes;
  int32 registry_breakers_open;
  uint64 late_domain_ages;
};

constexpr int kMaxRegistryStats = 32;
struct RegistryStatsPod {
  FixedText<256> server;
  bool whois;  // else RDAP
  uint64 lookups;
  uint64 failures;
  bool breaker_open;
  TimestampTz open_until;
  uint64 breaker_openings;
};

// Slots held per login role, for mailsentry.queue_slots_per_role. Entries
// with nothing held are reused; when every entry is taken by a role holding
// slots, further roles are not counted (and so not capped).
constexpr int kMaxRoleShares = 64;
struct RoleShare {
  Oid role;
  int32 held;
};

struct SharedQueue {
  pg_atomic_uint32 worker_pid;  // 0 while no worker runs
  pg_atomic_uint64 worker_starts;
  PGPROC* worker;  // valid while worker_pid != 0
  pg_atomic_uint32 next_ticket;
  QueueStats stats;
  slock_t mx_stats_lock;  // guards the published figures below (copies, nothing else)
  int mx_stats_count;
  TimestampTz mx_stats_at;
  MxStatsPod mx_stats[kMaxMxStats];
  WorkerHealthPod health;
  int registry_stats_count;
  RegistryStatsPod registry_stats[kMaxRegistryStats];
  slock_t role_lock;  // guards role_shares
  RoleShare role_shares[kMaxRoleShares];
  int slot_count;
  RequestSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

// Set up by the shmem hooks; nullptr when the library was not preloaded.
extern SharedQueue* shared_queue;

// Called from _PG_init when preloading.
void install_shared_memory_hooks();

// Raises an ERROR with a HINT when the library was not preloaded or the
// worker is switched off.
void require_worker_available();

// Backend side (the waiting itself is pipeline/worker_handoff's). A slot is
// owned by this backend from try_claim_slot() until release_slot() or
// abandon_slot(); an ERROR or FATAL in between gives it back.
//
// How many more slots this backend may claim now: its own cap less what it
// holds, and at most what its role has left (a snapshot: try_claim_slot()
// reserves the role's share exactly).
int claimable_slots();
// A slot without waiting: -1 when every slot is in use or this session or
// its role holds its share.
int try_claim_slot();
// The ERROR for a caller that found no room for `wait_ms`: it names the caps
// when this session's or role's share is what is full.
void report_queue_full(int wait_ms);
void submit_slot(int slot);
// Whether the answer is in.
bool slot_answered(int slot);
// Takes the answer's slot back.
void release_slot(int slot);
// Gives a slot back in any state (it is free at once; the worker still
// finishes and caches the work it took).
void abandon_slot(int slot);
// An ERROR once the worker has been missing for a second (`missing_since`
// tracks it).
void check_worker_alive(TimestampTz* missing_since);

// Worker side.
void worker_attach(PGPROC* worker);
void worker_detach();
// Takes the submitted request in `slot`: its ticket, or 0 when there is none.
uint32 worker_take(int slot);
// The slot whose claim `ticket` is still waiting for its answer, or nullptr
// when the backend gave it up (the answer is then dropped).
RequestSlot* slot_awaiting_answer(int slot, uint32 ticket);
// Publishes the answer written into the slot and wakes the backend; false
// when the backend gave the slot up meanwhile.
bool publish_answer(int slot, uint32 ticket);
// Writes an empty answer that says why into a slot still waiting, and
// publishes it.
void answer_empty(int slot, uint32 ticket, const char* why);
// Answers every request the worker took and has not answered with an empty
// answer that says why (the worker is stopping): the callers get an
// estimated verdict at once instead of waiting for a worker that is gone.
void answer_taken_requests(const char* why);

// Shared memory holds plain data only: no constructor, destructor or
// pointer to process-local memory runs or dangles across processes.
static_assert(std::is_trivially_copyable_v<RequestSlot>);
static_assert(std::is_trivially_copyable_v<NetworkRequestPod>);
static_assert(std::is_trivially_copyable_v<NetworkFactsPod>);
static_assert(std::is_trivially_copyable_v<MxStatsPod>);
static_assert(std::is_trivially_copyable_v<WorkerHealthPod>);
static_assert(std::is_trivially_copyable_v<RegistryStatsPod>);
static_assert(std::is_trivially_copyable_v<SharedQueue>);

}  // namespace mailsentry::pg
