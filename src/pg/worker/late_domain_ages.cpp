#include "worker/late_domain_ages.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

#include <string>
#include <unordered_map>

#include "tables/cache_writer.hpp"
#include "tables/domains_table.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

// Plain data kept between the guarded C++ phase and the SPI phase; one entry
// per registrable domain (many verifications may report the same date).
struct LateAge {
  bool has_date;
  std::int32_t created_days;
  std::string warning;
};
std::unordered_map<std::string, LateAge> pending_ages;

constexpr const char* kPendingWarning = "registration date pending";

// Running jobs keep verdict counts: an address whose verdict the date
// changes moves from one count to the other.
const char* const kJobsUpdate =
    "WITH changed AS ( "
    "  SELECT i.job_id, i.item, i.verdict AS old_verdict, r.verdict AS new_verdict, r.score "
    "  FROM mailsentry.job_items i "
    "  JOIN mailsentry.job_queue j ON j.job_id = i.job_id AND j.state = 'running' "
    "  CROSS JOIN LATERAL mailsentry.cached_result(i.email) r "
    "  WHERE i.verdict IS NOT NULL AND i.address IS NOT NULL "
    "    AND (split_part(i.address, '@', -1) = $1 "
    "         OR split_part(i.address, '@', -1) LIKE '%.' || $1) "
    "    AND r.verdict IS DISTINCT FROM i.verdict), "
    "items AS ( "
    "  UPDATE mailsentry.job_items i SET verdict = c.new_verdict, score = c.score "
    "  FROM changed c WHERE i.job_id = c.job_id AND i.item = c.item) "
    "UPDATE mailsentry.job_queue q SET "
    "  valid = q.valid + d.valid, caution = q.caution + d.caution, "
    "  risky = q.risky + d.risky, invalid = q.invalid + d.invalid "
    "FROM (SELECT job_id, "
    "        sum((new_verdict = 'valid')::int - (old_verdict = 'valid')::int) AS valid, "
    "        sum((new_verdict = 'caution')::int - (old_verdict = 'caution')::int) AS caution, "
    "        sum((new_verdict = 'risky')::int - (old_verdict = 'risky')::int) AS risky, "
    "        sum((new_verdict = 'invalid')::int - (old_verdict = 'invalid')::int) AS invalid "
    "      FROM changed GROUP BY job_id) d "
    "WHERE q.job_id = d.job_id";

}  // namespace

void collect_late_domain_ages(std::vector<LateDomainAge> late) {
  for (LateDomainAge& age : late) {
    if (age.registrable_domain.empty()) continue;
    LateAge& entry = pending_ages[age.registrable_domain];
    // A date beats a failure reported by another verification.
    if (entry.has_date) continue;
    entry.has_date = age.created_days.has_value();
    entry.created_days = age.created_days.value_or(0);
    entry.warning = std::move(age.warning);
  }
}

bool late_domain_ages_pending() { return !pending_ages.empty(); }

void write_late_domain_ages() {
  if (!mailsentry_relations_exist({"cache", "domains", "job_queue", "job_items"})) return;
  for (const auto& [domain, age] : pending_ages) {
    NullableInt created_days{};
    if (age.has_date) {
      created_days.set(age.created_days);
      write_late_registration_date(domain, age.created_days);
    }
    write_late_registration_date_to_cache(domain, created_days, kPendingWarning, age.warning);
    // After the cache: the jobs' verdicts are read from it.
    if (age.has_date) {
      Oid types[] = {TEXTOID};
      Datum values[] = {PointerGetDatum(cstring_to_text_with_len(domain.data(), domain.size()))};
      spi_run("updating job verdicts for a late registration date", SPI_OK_UPDATE, kJobsUpdate, 1,
              types, values, nullptr, false, 0);
    }
  }
}

void clear_late_domain_ages() { pending_ages.clear(); }

}  // namespace mailsentry::pg
