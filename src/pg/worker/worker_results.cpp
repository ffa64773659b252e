#include "worker/worker_results.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "access/xlog.h"
#include "utils/timestamp.h"
}

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "queue/request_queue.hpp"
#include "tables/cache_writer.hpp"
#include "tables/domains_table.hpp"
#include "verdict/verification_steps.hpp"
#include "worker/job_runner.hpp"
#include "worker/late_domain_ages.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

// Globals: no C++ object on a stack that an ereport could unwind.
std::vector<std::pair<std::uint64_t, NetworkFacts>> completions;
std::vector<CacheWrite> writes;
InternalRequest internal_scratch;

// A backend's answer to deliver once its verdict is written.
struct Delivery {
  int slot;
  uint32 ticket;
  std::size_t completion;
};
std::vector<Delivery> deliveries;

// C++ side: what to write for each completion.
void prepare_writes(TimestampTz now) {
  writes.clear();
  deliveries.clear();
  for (std::size_t k = 0; k < completions.size(); ++k) {
    auto& [tag, facts] = completions[k];
    if (!take_internal(tag, internal_scratch)) continue;
    CacheWrite write = internal_scratch.meta;
    if (internal_scratch.kind == InternalKind::job_item)
      note_job_verdict(internal_scratch.job_id, internal_scratch.item, internal_scratch.email,
                       write.depth, &facts);
    else if (internal_scratch.kind == InternalKind::backend_call)
      deliveries.push_back({internal_scratch.slot, internal_scratch.ticket, k});
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
  // Nothing to guard; names the step for mailsentry.debug_fail_point, so a
  // test can make this transaction fail.
  raise_if_failed(run_guarded("writing verdicts", [] {}), "mailsentry worker");
  if (!mailsentry_relations_exist({"cache", "domains"})) return;
  for (const CacheWrite& write : writes) {
    write_cache_entry(write);
    if (write.with_domain_facts) write_domain_facts(write);
  }
  write_job_progress();
  // After the verdicts: a date may concern rows written just now.
  write_late_domain_ages();
}

// Answers the backends still waiting for these verdicts; a backend that gave
// its slot up (cancel, timeout) has the verdict in the cache only.
void deliver_to_slots() {
  for (const Delivery& delivery : deliveries) {
    RequestSlot* slot = slot_awaiting_answer(delivery.slot, delivery.ticket);
    if (slot == nullptr) continue;
    const NetworkFacts& facts = completions[delivery.completion].second;
    const GuardResult converted =
        run_guarded("storing an answer", [&] { facts_to_pod(facts, slot->answer); });
    pg_atomic_fetch_add_u64(&shared_queue->stats.completed, 1);
    if (converted.failed) {
      // Still an answer that says why it is empty (never a silent all-NULL).
      answer_empty(delivery.slot, delivery.ticket, "the worker could not store its answer");
      continue;
    }
    (void)publish_answer(delivery.slot, delivery.ticket);
  }
}

}  // namespace

void handle_completions() {
  const TimestampTz now = GetCurrentTimestamp();
  raise_if_failed(run_guarded("collecting answers",
                              [now] {
                                completions = worker_engine()->take_completions();
                                if (!completions.empty()) prepare_writes(now);
                                collect_late_domain_ages(worker_engine()->take_late_domain_ages());
                              }),
                  "mailsentry worker");
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
    deliveries.clear();
    clear_late_domain_ages();
  });
}

}  // namespace mailsentry::pg
