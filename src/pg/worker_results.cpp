#include "worker_results.hpp"

#include "postgres_headers.hpp"

extern "C" {
#include "access/xlog.h"
#include "utils/timestamp.h"
}

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cache_writer.hpp"
#include "guard.hpp"
#include "job_runner.hpp"
#include "late_domain_ages.hpp"
#include "request_queue.hpp"
#include "settings.hpp"
#include "verification_steps.hpp"
#include "worker_requests.hpp"
#include "worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

// Globals: no C++ object on a stack that an ereport could unwind.
std::vector<std::pair<std::uint64_t, NetworkFacts>> completions;
std::vector<CacheWrite> writes;
InternalRequest internal_scratch;

// C++ side: what to write for each completion.
void prepare_writes(TimestampTz now) {
  writes.clear();
  for (auto& [tag, facts] : completions) {
    CacheWrite write{};
    if (tag & kInternalTag) {
      if (!take_internal(tag, internal_scratch)) continue;
      write = internal_scratch.meta;
      if (internal_scratch.kind == InternalKind::job_item)
        note_job_verdict(internal_scratch.job_id, internal_scratch.item, internal_scratch.email,
                         write.depth, &facts);
    } else {
      const int index = static_cast<int>(tag >> 32);
      if (index < 0 || index >= shared_queue->slot_count) continue;
      const RequestSlot& slot = shared_queue->slots[index];
      if (slot.ticket != static_cast<uint32>(tag & 0xffffffffu)) continue;
      const NetworkRequest request = request_from_pod(slot.request);
      describe_request(request, write);
    }
    facts_to_pod(facts, write.facts);
    write.inconclusive = facts_inconclusive(facts);
    write.checked_at = now;
    writes.push_back(write);
  }
  // One domain row per domain and batch: the latest answer (a bulk batch
  // holds hundreds of addresses of a few domains).
  std::unordered_set<std::string_view> domains_seen;
  for (auto it = writes.rbegin(); it != writes.rend(); ++it)
    it->with_domain_facts = domains_seen.insert(it->domain.view()).second;
}

void write_all() {
  if (!mailsentry_relations_exist({"cache", "domains"})) return;
  for (const CacheWrite& write : writes) {
    write_cache_entry(write);
    if (write.with_domain_facts) write_domain_facts(write);
  }
  write_job_progress();
  // After the verdicts: a date may concern rows written just now.
  write_late_domain_ages();
}

// Answers the backends whose requests finished (as before the cache existed).
void deliver_to_slots() {
  for (auto& [tag, facts] : completions) {
    if (tag & kInternalTag) continue;
    const int index = static_cast<int>(tag >> 32);
    const uint32 ticket = static_cast<uint32>(tag & 0xffffffffu);
    if (index < 0 || index >= shared_queue->slot_count) continue;
    RequestSlot& slot = shared_queue->slots[index];
    uint32 state = pg_atomic_read_u32(&slot.state);
    if (slot.ticket != ticket || (state != kSlotTaken && state != kSlotAbandoned)) continue;
    if (state == kSlotAbandoned) {
      pg_atomic_compare_exchange_u32(&slot.state, &state, kSlotFree);
      continue;
    }
    const GuardResult converted = run_guarded("storing an answer", [&] {
      facts_to_pod(facts, slot.answer);
    });
    if (converted.failed) {
      // Still an answer that says why it is empty (never a silent all-NULL).
      memset(&slot.answer, 0, sizeof slot.answer);
      slot.answer.mx_found = TriState::null;
      slot.answer.unfinished = true;
      slot.answer.warning_count = 1;
      slot.answer.warnings[0].assign("the worker could not store its answer");
    }
    pg_atomic_fetch_add_u64(&shared_queue->stats.completed, 1);
    // The exchange is a full barrier: the answer is visible before the state.
    uint32 expected = kSlotTaken;
    if (pg_atomic_compare_exchange_u32(&slot.state, &expected, kSlotDone)) {
      wake_requester(slot);
    } else if (expected == kSlotAbandoned) {
      pg_atomic_compare_exchange_u32(&slot.state, &expected, kSlotFree);
    }
  }
}

}  // namespace

void handle_completions() {
  const TimestampTz now = GetCurrentTimestamp();
  raise_if_failed(run_guarded("collecting answers", [now] {
    completions = worker_engine()->take_completions();
    if (!completions.empty()) prepare_writes(now);
    collect_late_domain_ages(worker_engine()->take_late_domain_ages());
  }), "mailsentry worker");
  if (completions.empty() && !late_domain_ages_pending()) return;
  // The dialogue is logged by this thread: the I/O thread never calls PostgreSQL.
  for (const auto& [tag, facts] : completions)
    for (const std::string& line : facts.smtp_transcript)
      ereport(LOG, (errmsg("mailsentry smtp %s: %s", facts.mx_host.c_str(), line.c_str())));
  // On a standby nothing is written: verdicts are computed, not cached.
  if (!RecoveryInProgress() &&
      (!writes.empty() || job_progress_pending() || late_domain_ages_pending())) {
    if (!run_in_transaction("storing verdicts", write_all))
      (void)run_guarded("storing verdicts", [] { writes.clear(); });
  }
  deliver_to_slots();
  (void)run_guarded("collecting answers", [] {
    completions.clear();
    writes.clear();
    clear_late_domain_ages();
  });
}

}  // namespace mailsentry::pg
