#include "worker/cache_maintenance.hpp"

#include "base/postgres_headers.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "base/guard.hpp"
#include "net/known_domain_facts.hpp"
#include "tables/cache_writer.hpp"
#include "tables/domains_table.hpp"
#include "tables/mx_health_table.hpp"
#include "verdict/mx_health_changes.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr int kPurgeBatch = 1000;

// Globals: no C++ object on a stack that an ereport could unwind.
std::vector<KnownDomainFacts> restored;
std::vector<std::pair<std::string, std::chrono::milliseconds>> open_breakers;
bool purge_batch_was_full = false;
MxHealthChanges health_changes;
std::vector<MxHealthChange> unsaved_health;

void restore_body() {
  if (!mailsentry_relations_exist({"domains", "mx_health"})) return;
  read_open_breakers(open_breakers);
  read_domain_facts(restored);
}

void purge_body() {
  if (!mailsentry_relations_exist({"cache"})) return;
  purge_batch_was_full =
      purge_expired_cache_entries(kPurgeBatch) >= static_cast<std::uint64_t>(kPurgeBatch);
}

void health_body() {
  if (!mailsentry_relations_exist({"mx_health"})) return;
  write_mx_health(unsaved_health);
}

}  // namespace

void restore_domain_facts() {
  (void)run_guarded("restoring domain facts", [] {
    restored.clear();
    open_breakers.clear();
  });
  if (!run_in_transaction("restoring domain facts", restore_body)) return;
  const GuardResult result = run_guarded("restoring domain facts", [] {
    worker_engine()->restore(std::move(restored));
    worker_engine()->restore_breakers(std::move(open_breakers));
    restored.clear();
    open_breakers.clear();
  });
  if (result.failed)
    ereport(WARNING, (errcode(result.sqlstate), errmsg("mailsentry worker: %s", result.message)));
}

bool purge_expired_entries() {
  purge_batch_was_full = false;
  (void)run_in_transaction("purging the cache", purge_body);
  return purge_batch_was_full;
}

void save_mx_health(bool with_counters) {
  const GuardResult collected = run_guarded("saving MX health", [with_counters] {
    unsaved_health.clear();
    health_changes.take(worker_engine()->stats().mx, with_counters, unsaved_health);
  });
  if (collected.failed || unsaved_health.empty()) return;
  (void)run_in_transaction("saving MX health", health_body);
}

}  // namespace mailsentry::pg
