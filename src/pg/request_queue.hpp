// The queue between backends and the worker, in shared memory: a fixed array
// of request slots whose state moves by atomic compare-and-swap. Backends
// claim a slot, publish a request and sleep on their latch; the worker takes
// requests, and writes answers back and sets the requester's latch.
//
//   free -> claimed (backend fills) -> submitted -> taken (worker) -> done
//   submitted -> free       a backend gives up before the worker took it
//   taken -> abandoned      a backend gives up; the worker frees it later
//   taken -> submitted      a new worker takes over a dead worker's requests
#pragma once

#include "network_pod.hpp"
#include "postgres_headers.hpp"

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
  kSlotAbandoned,
};

struct RequestSlot {
  pg_atomic_uint32 state;
  uint32 ticket;     // changes with every claim: a late answer for an old ticket is dropped
  PGPROC* requester;
  NetworkRequestPod request;
  NetworkFactsPod answer;
};

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

struct SharedQueue {
  pg_atomic_uint32 worker_pid;        // 0 while no worker runs
  pg_atomic_uint64 worker_starts;
  PGPROC* worker;                      // valid while worker_pid != 0
  pg_atomic_uint32 next_ticket;
  QueueStats stats;
  slock_t mx_stats_lock;  // guards the published figures below (copies, nothing else)
  int mx_stats_count;
  TimestampTz mx_stats_at;
  MxStatsPod mx_stats[kMaxMxStats];
  WorkerHealthPod health;
  int registry_stats_count;
  RegistryStatsPod registry_stats[kMaxRegistryStats];
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

// Backend side. Waits (honouring interrupts) up to `wait_ms` for a free slot;
// ERROR when the queue stays full. The slot is owned by this backend until
// release_slot(); an ERROR or FATAL in between abandons it.
int claim_slot(int wait_ms);
// The same without waiting: -1 when every slot is in use.
int try_claim_slot();
void submit_slot(int slot);
// Waits for the answer. False when `timeout_ms` passed first (the slot is
// then abandoned). ERROR when the worker is gone for more than a second.
bool wait_for_answer(int slot, int timeout_ms);
void release_slot(int slot);
// For callers with many slots in flight: whether the answer is in; giving a
// slot back in any state (the worker frees one it still works on); an ERROR
// once the worker has been missing for a second (`missing_since` tracks it).
bool slot_answered(int slot);
void abandon_slot(int slot);
void check_worker_alive(TimestampTz* missing_since);

// Worker side.
void worker_attach(PGPROC* worker);
void worker_detach();
// Answers every request the worker took and has not answered with an empty
// answer that says why (the worker is stopping): the callers get an
// estimated verdict at once instead of waiting for a worker that is gone.
void answer_taken_requests(const char* why);
void wake_requester(RequestSlot& slot);

}  // namespace mailsentry::pg
