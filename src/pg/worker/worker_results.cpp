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
#include "pipeline/call_context.hpp"
#include "queue/request_queue.hpp"
#include "tables/cache_writer.hpp"
#include "tables/domains_table.hpp"
#include "verdict/recent_writes.hpp"
#include "verdict/verification_steps.hpp"
#include "worker/job_runner.hpp"
#include "worker/late_domain_ages.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

// A backend's answer to deliver once its verdict is written.
struct Delivery {
  int slot;
  uint32 ticket;
  std::size_t write;  // index in CompletionRound::writes: the answer is encoded once
};

// One round of finished requests, in a call context.
struct CompletionRound {
  std::vector<std::pair<std::uint64_t, NetworkFacts>> completions;
  std::vector<CacheWrite> writes;
  std::vector<Delivery> deliveries;
  std::vector<std::pair<std::size_t, std::uint64_t>> domain_rows;  // write index, facts digest
};

// The domain rows written lately and with what (worker lifetime): a domain's
// row is rewritten when its facts change, and at least once a minute.
RecentWrites domain_rows_written(60LL * 1000000, 100000);

// C++ side: what to write for each completion.
void prepare_writes(CompletionRound& round, TimestampTz now) {
  InternalRequest internal;
  for (auto& [tag, facts] : round.completions) {
    if (!take_internal(tag, internal)) continue;
    CacheWrite write = internal.meta;
    if (internal.kind == InternalKind::job_item)
      note_job_verdict(internal.job_id, internal.item, *internal.started, &facts);
    else if (internal.kind == InternalKind::backend_call)
      round.deliveries.push_back({internal.slot, internal.ticket, round.writes.size()});
    facts_to_pod(facts, write.facts);
    write.inconclusive = facts_inconclusive(facts);
    write.checked_at = now;
    round.writes.push_back(write);
  }
  // One domain row per domain and batch: the latest answer (a bulk batch
  // holds hundreds of addresses of a few domains), and only when it changes
  // the row (or has not been written for a minute).
  std::unordered_set<std::string_view> domains_seen;
  for (std::size_t i = round.writes.size(); i-- > 0;) {
    CacheWrite& write = round.writes[i];
    write.with_domain_facts = domains_seen.insert(write.domain.view()).second;
    if (!write.with_domain_facts || !write.domain.present) continue;
    const std::uint64_t digest = domain_facts_digest(write);
    write.with_domain_facts = domain_rows_written.needs_write(write.domain.view(), digest, now);
    if (write.with_domain_facts) round.domain_rows.emplace_back(i, digest);
  }
}

// C++ side: the domain rows of a round that committed.
void remember_domain_rows(const CompletionRound& round, TimestampTz now) {
  for (const auto& [index, digest] : round.domain_rows)
    domain_rows_written.written(round.writes[index].domain.view(), digest, now);
}

void write_all(void* state) {
  const CompletionRound& round = *static_cast<const CompletionRound*>(state);
  // Nothing to guard; names the step for mailsentry.debug_fail_point, so a
  // test can make this transaction fail.
  raise_if_failed(run_guarded("writing verdicts", [] {}), "mailsentry worker");
  if (!mailsentry_relations_exist({"cache", "domains"})) return;
  for (const CacheWrite& write : round.writes) {
    write_cache_entry(write);
    if (write.with_domain_facts) write_domain_facts(write);
  }
  write_job_progress();
  // After the verdicts: a date may concern rows written just now.
  write_late_domain_ages();
}

// Answers the backends still waiting for these verdicts; a backend that gave
// its slot up (cancel, timeout) has the verdict in the cache only.
void deliver_to_slots(const CompletionRound& round) {
  for (const Delivery& delivery : round.deliveries) {
    RequestSlot* slot = slot_awaiting_answer(delivery.slot, delivery.ticket);
    if (slot == nullptr) continue;
    const NetworkFactsPod& answer = round.writes[delivery.write].facts;
    const GuardResult converted =
        run_guarded("storing an answer", [&] { memcpy(&slot->answer, &answer, sizeof answer); });
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
  CallContext<CompletionRound> round = CallContext<CompletionRound>::create("collecting answers");
  raise_if_failed(run_guarded("collecting answers",
                              [&] {
                                round->completions = worker_engine()->take_completions();
                                if (!round->completions.empty()) prepare_writes(*round, now);
                                collect_late_domain_ages(worker_engine()->take_late_domain_ages());
                              }),
                  "mailsentry worker");
  if (round->completions.empty() && !late_domain_ages_pending()) {
    round.finish();
    return;
  }
  // The dialogue is logged by this thread: the I/O thread never calls PostgreSQL.
  for (const auto& [tag, facts] : round->completions)
    for (const std::string& line : facts.smtp_transcript)
      ereport(LOG, (errmsg("mailsentry smtp %s: %s", facts.mx_host.c_str(), line.c_str())));
  // On a standby nothing is written: verdicts are computed, not cached.
  if (!RecoveryInProgress() &&
      (!round->writes.empty() || job_progress_pending() || late_domain_ages_pending()) &&
      run_in_transaction("storing verdicts", write_all, &*round))
    (void)run_guarded("collecting answers", [&] { remember_domain_rows(*round, now); });
  deliver_to_slots(*round);
  (void)run_guarded("collecting answers", [] { clear_late_domain_ages(); });
  round.finish();
}

}  // namespace mailsentry::pg
