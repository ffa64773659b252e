#include "worker/cache_maintenance.hpp"

#include "base/postgres_headers.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "base/guard.hpp"
#include "net/known_domain_facts.hpp"
#include "pipeline/call_context.hpp"
#include "tables/cache_writer.hpp"
#include "tables/domains_table.hpp"
#include "tables/mx_health_table.hpp"
#include "verdict/mx_health_changes.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr int kPurgeBatch = 1000;

// What the engine gained since the last save, per MX: worker-lifetime state
// (the totals already saved), not a call's.
MxHealthChanges health_changes;

// What one restore reads, in a CallContext.
struct RestoredFacts {
  std::vector<KnownDomainFacts> domains;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> open_breakers;
};

void restore_body(void* state) {
  if (!mailsentry_relations_exist({"domains", "mx_health"})) return;
  RestoredFacts& restored = *static_cast<RestoredFacts*>(state);
  read_open_breakers(restored.open_breakers);
  read_domain_facts(restored.domains);
}

void purge_body(void* state) {
  if (!mailsentry_relations_exist({"cache"})) return;
  *static_cast<bool*>(state) =
      purge_expired_cache_entries(kPurgeBatch) >= static_cast<std::uint64_t>(kPurgeBatch);
}

void health_body(void* state) {
  if (!mailsentry_relations_exist({"mx_health"})) return;
  write_mx_health(*static_cast<const std::vector<MxHealthChange>*>(state));
}

}  // namespace

void restore_domain_facts() {
  CallContext<RestoredFacts> restored =
      CallContext<RestoredFacts>::create("restoring domain facts");
  if (!run_in_transaction("restoring domain facts", restore_body, &*restored)) {
    restored.finish();
    return;
  }
  const GuardResult result = run_guarded("restoring domain facts", [&] {
    worker_engine()->restore(std::move(restored->domains));
    worker_engine()->restore_breakers(std::move(restored->open_breakers));
  });
  restored.finish();
  if (result.failed)
    ereport(WARNING, (errcode(result.sqlstate), errmsg("mailsentry worker: %s", result.message)));
}

bool purge_expired_entries() {
  bool batch_was_full = false;
  (void)run_in_transaction("purging the cache", purge_body, &batch_was_full);
  return batch_was_full;
}

void save_mx_health(bool with_counters) {
  CallContext<std::vector<MxHealthChange>> unsaved =
      CallContext<std::vector<MxHealthChange>>::create("saving MX health");
  const GuardResult collected = run_guarded("saving MX health", [&] {
    health_changes.take(worker_engine()->stats().mx, with_counters, *unsaved);
  });
  if (!collected.failed && !unsaved->empty())
    (void)run_in_transaction("saving MX health", health_body, &*unsaved);
  unsaved.finish();
}

}  // namespace mailsentry::pg
